"""Default configuration; override in instance/config.py or with PMH_* environment variables."""

from pathlib import Path

ENV_NAME = "development"
# Empty means: a SQLite file in the instance folder. PostgreSQL: postgresql+psycopg://...
DATABASE_URL = ""
# Empty means: a random key created once in instance/secret_key.
SECRET_KEY = ""
# Key of the audit log's HMAC chain; keep it outside the database (and its backups) so that
# someone who can write to the database cannot rewrite the log. Empty means: derived from
# SECRET_KEY. Changing it (or the secret key it is derived from) makes `pmh audit verify` fail.
AUDIT_KEY = ""
# Prefecture whose facilities the master import keeps (JIS code).
PREFECTURE_CODE = "13"
QUESTIONNAIRE_VERSION = "2026.2"
# Editions of the hearings the office holds with obstetric institutions and municipalities
# (their campaigns and answer forms; files in surveys/questionnaires/).
OBSTETRIC_HEARING_VERSION = "obstetric-2026.1"
MUNICIPAL_HEARING_VERSION = "municipal-2026.1"
# Flask-Babel: pages are Japanese unless the visitor picks English; the catalogue's folder.
BABEL_DEFAULT_LOCALE = "ja"
BABEL_TRANSLATION_DIRECTORIES = str(Path(__file__).parent / "translations")
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
# Seconds to wait for the SMTP server to answer.
MAIL_SMTP_TIMEOUT = 30.0
# A message a crashed `pmh campaign send` was sending is taken up by another run after this
# many seconds (sooner risks sending it twice while the first run still lives).
MAIL_SEND_LEASE_SECONDS = 300
# Sending from the admin page stops after this many seconds (before a proxy or gunicorn
# times out); pressing send again continues. `pmh campaign send` has no such limit.
MAIL_SEND_REQUEST_SECONDS = 20
# Capacity pulse: `pmh pulse send`, run daily from cron, mails every accepting facility with an
# address once a month, from this day of the month (Japan); its one-click links work this
# many days. PULSE_ENABLED = False stops it.
PULSE_ENABLED = True
PULSE_SEND_DAY = 1
PULSE_LINK_DAYS = 31
# `pmh referrals remind` (daily from cron) mails referrers whose outcome questions became due
# that day; off by default (the questions are always on the start page).
REFERRAL_OUTCOME_MAIL = False
# Reverse proxies in front of the app (nginx: 1). Their X-Forwarded-For/-Proto give the
# client's address (per-IP rate limits) and https; 0 trusts no such header.
TRUSTED_PROXIES = 0
# Rate limits shared by every worker: empty means a table in the database; with several
# gunicorn workers on one host the database works too, redis://host:6379/0 is faster.
RATELIMIT_STORAGE_URL = ""
# Prepended to every Redis key (several sites may share one Redis database).
RATELIMIT_KEY_PREFIX = "pmh:"
RATELIMIT_ENABLED = True
# Each limit is (hits, seconds) per fixed window; past it the request gets a 429 page with
# Retry-After and is not processed (a sign-in past the limit is not even checked).
RATELIMIT_LOGIN_IP = (50, 900)  # sign-in attempts per client IP (offices share one IP)
RATELIMIT_TOTP = (5, 900)  # one-time code attempts per user (sign-in and set-up)
RATELIMIT_INVITATION_IP = (30, 900)  # clinic invitation link requests per client IP
RATELIMIT_SHARE_IP = (120, 900)  # shortlist share link views per client IP
# Staff and admin sessions end after this long without a request, and this long after the
# sign-in however active (checked on every request; the user signs in again).
SESSION_IDLE_MINUTES = 30
SESSION_MAX_HOURS = 12
# Days an API token works unless `pmh api-token create --days N` says otherwise.
API_TOKEN_DAYS = 365
# Failed sign-ins slow the guesser, never lock the address: after LOGIN_FREE_FAILURES failures
# a day for one address from one IP (or from one known browser), and LOGIN_ADDRESS_FREE_FAILURES
# for one address from browsers that never signed in to it, each failure makes the next
# attempt wait twice as long (2 s, 4 s, ... up to LOGIN_MAX_WAIT_SECONDS). A browser that signed
# in before keeps a signed cookie for KNOWN_DEVICE_DAYS; other browsers' failures never slow it.
LOGIN_FREE_FAILURES = 5
LOGIN_ADDRESS_FREE_FAILURES = 20
LOGIN_MAX_WAIT_SECONDS = 900
KNOWN_DEVICE_DAYS = 180
# Shown as the account name's issuer in authenticator apps.
TOTP_ISSUER = "妊産婦こころの医療機関ナビ"
# Seconds a request waits for the index writer before leaving its change to the outbox
# (the next save or `pmh index sync` applies it).
INDEX_SYNC_LOCK_TIMEOUT = 1.0
# Rebuild a missing or corrupt index in the background while search shows a 503 page.
# None means on, except under TESTING.
INDEX_AUTO_REBUILD = None
# Admin uploads (XLSX is a ZIP archive): refused past these uncompressed sizes or this
# compression ratio (a "zip bomb"). Sized for the zipped 医療情報ネット speciality file
# (about 600,000 rows). The facility import page alone takes bodies up to
# IMPORT_MAX_CONTENT_LENGTH from a signed-in session, spooled to disk in the instance folder.
IMPORT_MAX_CONTENT_LENGTH = 128 * 1024 * 1024
IMPORT_MAX_UNCOMPRESSED = 1024 * 1024 * 1024
IMPORT_MAX_MEMBER = 768 * 1024 * 1024
IMPORT_MAX_RATIO = 200
# The programme office, linked from every page's footer and shown on dead-end pages (used or
# expired links), in mails and letters (PMH_OFFICE_NAME etc.; empty parts are left out).
OFFICE_NAME = "東京都 妊産婦メンタルヘルス対策事業 事務局"
OFFICE_PHONE = ""
OFFICE_EMAIL = ""
OFFICE_HOURS = ""
# A sign-in link a clinic requests for its registered address works once, for this long.
SIGNIN_LINK_MINUTES = 30
RATELIMIT_SIGNIN_LINK_ADDRESS = (1, 60)  # sign-in link requests per e-mail address
RATELIMIT_SIGNIN_LINK_IP = (20, 900)  # sign-in link requests per client IP
RATELIMIT_LETTER_CODE_IP = (10, 900)  # letter codes typed at /invite per client IP
# A TrueType/OpenType font with Japanese glyphs for the printed letters; empty: the first of
# the Debian Noto CJK / IPA fonts found (Debian: fonts-noto-cjk).
LETTER_FONT = ""
