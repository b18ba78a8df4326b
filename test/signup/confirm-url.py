#!/usr/bin/python3
"""confirm-url.py DIR RCPT: prints the path (after /t) of the confirmation
link in the last confirmation DIR holds for RCPT (smtpd.py's NNNNNN.env and
.eml files)."""
import email
import email.policy
import glob
import re
import sys

found = None
for env in sorted(glob.glob(sys.argv[1] + "/*.env")):
    if ("rcpt " + sys.argv[2]) not in open(env).read().splitlines():
        continue
    with open(env[:-4] + ".eml", "rb") as f:
        m = email.message_from_binary_file(f, policy=email.policy.default)
    text = m.get_body(preferencelist=("plain",)).get_content()
    m = re.search(r"https?://[^/\s]+/t(/s/confirm/[A-Za-z0-9_-]+)", text)
    if m:
        found = m.group(1)
if found is None:
    sys.exit("no message for " + sys.argv[2])
print(found)
