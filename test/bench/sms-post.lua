-- wrk script of the sms bench part: the same Twilio-style POST as
-- sms-python.py sends (one body for all requests).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic QUMwMTIzNDU2Nzg5OmF1dGh0b2tlbg=="
wrk.headers["Accept"] = "application/json"
wrk.body = "To=%2B972500000001&From=%2B15005550006&Body=Autumn+sale%3A+20%25+off+everything+until+Sunday%2C+Name1.+Code+AUTUMN20.+Reply+STOP+to+opt+out"
