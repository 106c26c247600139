"""Default configuration; override in instance/config.py or with PMH_* environment variables."""

ENV_NAME = "development"
# Empty means: a SQLite file in the instance folder. PostgreSQL: postgresql+psycopg://...
DATABASE_URL = ""
# Empty means: a random key created once in instance/secret_key.
SECRET_KEY = ""
# Prefecture whose facilities the master import keeps (JIS code).
PREFECTURE_CODE = "13"
QUESTIONNAIRE_VERSION = "2026.1"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
WTF_CSRF_TIME_LIMIT = None
MAX_CONTENT_LENGTH = 16 * 1024 * 1024
# Clinic sessions opened from an invitation last at most this long (hours).
INVITATION_SESSION_HOURS = 12
BASE_URL = "http://127.0.0.1:5000"
# Search index folder; empty means instance/index.
INDEX_PATH = ""
# Apply the outbox within the request that made the change (single-process deployments and
# tests); with several hosts, run `pmh index sync` periodically as well.
INDEX_SYNC_IN_REQUEST = True
# Geocoding: empty means the bundled offline gazetteer (a typed address never leaves the
# server). Any geopy geocoder can be named instead, e.g. "geopy.geocoders:Nominatim" with
# GEOCODER_OPTIONS = {"user_agent": "..."}; that sends typed addresses to that service.
GEOCODER = ""
GEOCODER_OPTIONS: dict = {}
PREFERRED_PREFECTURE = "東京都"
# Map tiles: any XYZ tile URL (default 地理院タイル). Empty: no tiles; the list and markers still
# work. The tile host is added to the page's Content-Security-Policy.
MAP_TILE_URL = "https://cyberjapandata.gsi.go.jp/xyz/std/{z}/{x}/{y}.png"
MAP_ATTRIBUTION = '<a href="https://maps.gsi.go.jp/development/ichiran.html">地理院タイル</a>'
# How long a shortlist share link stays valid (days).
SHARE_LINK_DAYS = 14
# Outgoing mail (campaign invitations, reminders, staff invitations). "file": each message is
# written to MAIL_FOLDER (default instance/mail) for development; "smtp": sent to the server.
MAIL_BACKEND = "file"
MAIL_FROM = "妊産婦こころの医療機関ナビ <noreply@example.jp>"
MAIL_FOLDER = ""
MAIL_SMTP_HOST = "127.0.0.1"
MAIL_SMTP_PORT = 25
MAIL_SMTP_STARTTLS = False
MAIL_SMTP_SSL = False
MAIL_SMTP_USERNAME = ""
MAIL_SMTP_PASSWORD = ""
# Rate limits shared by every worker: empty means a table in the database; with several
# gunicorn workers on one host the database works too, redis://host:6379/0 is faster.
RATELIMIT_STORAGE_URL = ""
