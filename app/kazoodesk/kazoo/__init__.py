"""Qt-free async client of a Kazoo 4.3 server (Crossbar `/v2` API).

```python
client = KazooClient("http://127.0.0.1:8000/v2")
await client.login(account_name="Demo Co", username="admin", password="...")
doc = await client.get_device(device_id)
doc = await client.save_device(device_id, edited, doc.revision)  # 412 if changed meanwhile
await client.aclose()
```
"""

from kazoodesk.kazoo.client import KazooClient
from kazoodesk.kazoo.errors import KazooError, KazooUnavailable
from kazoodesk.kazoo.schemas import SchemaSet
from kazoodesk.kazoo.session import normalize_base_url
from kazoodesk.kazoo.timestamps import from_gregorian, parse_timestamp, to_gregorian
from kazoodesk.kazoo.values import Answer, AuthInfo, Document

__all__ = [
    "Answer",
    "AuthInfo",
    "Document",
    "KazooClient",
    "KazooError",
    "KazooUnavailable",
    "SchemaSet",
    "from_gregorian",
    "normalize_base_url",
    "parse_timestamp",
    "to_gregorian",
]
