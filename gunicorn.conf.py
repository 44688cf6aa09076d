"""gunicorn settings: `gunicorn -c gunicorn.conf.py wsgi:app`.

No log line may tie a report to a person or to a time finer than the day. The logger
(app/accesslog.py) writes no access line at all for a reporter's request (the form, receipt,
status pages, the partner API's reports and the static files their pages load): journald and
docker stamp every line they receive, so dropping only the time would not do. Every other
request's line leaves out the client address (%(h)s), the query string and the referrer.
"""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
accesslog = "-"
errorlog = "-"
logger_class = "app.accesslog.PrivateLogger"
access_log_format = '%(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
proxy_allow_ips = forwarded_allow_ips
