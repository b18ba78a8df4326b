# show.py FILE.eml: the headers and parts of a sent message that tracking
# touches, with each token replaced by TOKEN-kind so the output is exact.
import email, re, sys
from email import policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.default)
def norm(s):
    return re.sub(r"/([ocu])/[A-Za-z0-9_-]+", r"/\1/TOKEN", s)
for h in ("List-Unsubscribe", "List-Unsubscribe-Post"):
    if m[h] is not None:
        print("%s: %s" % (h, norm(str(m[h]))))
for part in m.walk():
    if part.get_content_maintype() == "text":
        print("--- " + part.get_content_type())
        print(norm(part.get_content()).rstrip("\n"))
