"""A session's device, as its owner will recognise it on /compte: « Firefox sur Linux », « Safari sur iPhone ».
A short honest summary of the User-Agent header (no library: the few browsers and systems people use), « Navigateur
inconnu » when it says nothing we know. Nothing here is trusted: it only helps a person recognise their sessions."""
from __future__ import annotations

# Order matters: Edge and Opera say « Chrome » too, Chrome says « Safari », Android says « Linux ».
_BROWSERS = (
    ("edg/", "Edge"), ("edga/", "Edge"), ("edgios/", "Edge"), ("opr/", "Opera"), ("opera", "Opera"),
    ("samsungbrowser", "Samsung Internet"), ("vivaldi", "Vivaldi"), ("firefox/", "Firefox"), ("fxios/", "Firefox"),
    ("crios/", "Chrome"), ("chromium/", "Chromium"), ("chrome/", "Chrome"), ("safari/", "Safari"),
    ("curl/", "curl"), ("python-httpx", "httpx"), ("python-requests", "requests"),
)
_SYSTEMS = (
    ("iphone", "iPhone"), ("ipad", "iPad"), ("android", "Android"), ("windows", "Windows"), ("cros", "ChromeOS"),
    ("mac os x", "macOS"), ("macintosh", "macOS"), ("linux", "Linux"),
)


def summarise(user_agent: str | None) -> str:
    agent = (user_agent or "")[:512].lower()
    browser = next((name for key, name in _BROWSERS if key in agent), "Navigateur inconnu")
    system = next((name for key, name in _SYSTEMS if key in agent), "")
    return f"{browser} sur {system}" if system else browser
