/* Unit tests for config: every setting, unknown keys with file:line:col,
 * secrets and file modes, and that no message holds a secret. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "tap.h"

static char dir[] = "/tmp/nudge-config-unit.XXXXXX";
static char path[256];

/* Writes text to dir/name with mode, and returns its path. */
static const char *
put(const char *name, const char *text, mode_t mode)
{
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	unlink(path);
	if ((fp = fopen(path, "w")) == NULL)
		return path;
	fputs(text, fp);
	fclose(fp);
	chmod(path, mode);
	return path;
}

/* Loads text as a 0600 file: returns the code and leaves the message. */
static int
load(const char *text, nudge_config *cfg, nudge_err *err)
{
	err->msg[0] = '\0';
	return nudge_config_load(cfg, put("c.yaml", text, 0600), err);
}

/* The message with the scratch directory cut off, for exact compares. */
static const char *
msg(const nudge_err *err)
{
	size_t n = strlen(dir);

	return strncmp(err->msg, dir, n) == 0 ? err->msg + n + 1 : err->msg;
}

static void
test_full(void)
{
	nudge_config cfg;
	nudge_err err;
	int rc;

	rc = load("db: shop.db\n"
	    "default_country: il\n"
	    "channels:\n"
	    "  email:\n"
	    "    url: smtp://mail.example.com:587\n"
	    "    from: \"Shop <news@example.com>\"\n"
	    "    reply_to: help@example.com\n"
	    "    username: news\n"
	    "    password_env: SHOP_SMTP_PASSWORD\n"
	    "    parallel: 4\n"
	    "    rate: 600/m\n"
	    "    allow_plaintext: false\n"
	    "tracking:\n"
	    "  base_url: https://t.example.com/\n"
	    "  secret_file: secret.txt\n"
	    "policy:\n"
	    "  frequency_cap: {max: 3, per: 7d}\n"
	    "  quiet_hours: {from: \"21:00\", to: \"08:30\", "
	    "timezone: Asia/Jerusalem}\n"
	    "  exclude: purchase within 2d\n"
	    "  sunset: 180d\n", &cfg, &err);
	if (!ok(rc == 0, "a file with every setting loads"))
		printf("# %s\n", err.msg);
	ok(cfg.db != NULL && strcmp(cfg.db + strlen(dir), "/shop.db") == 0,
	    "db relative to the file");
	is_str(cfg.default_country, "IL", "default_country upper-cased");
	is_str(cfg.email.url, "smtp://mail.example.com:587", "email url");
	is_str(cfg.email.from, "Shop <news@example.com>", "email from");
	is_str(cfg.email.reply_to, "help@example.com", "email reply_to");
	is_str(cfg.email.username, "news", "email username");
	is_str(cfg.email.password_env, "SHOP_SMTP_PASSWORD", "password_env");
	ok(cfg.email.password_file == NULL && cfg.email.password == NULL,
	    "no other password source");
	is_int(cfg.email.parallel, 4, "parallel");
	ok(cfg.email.rate > 9.99 && cfg.email.rate < 10.01,
	    "rate 600/m is 10 a second");
	is_int(cfg.email.allow_plaintext, 0, "allow_plaintext");
	is_str(cfg.tracking.base_url, "https://t.example.com/", "base_url");
	ok(cfg.tracking.secret_file != NULL &&
	    strcmp(cfg.tracking.secret_file + strlen(dir), "/secret.txt") == 0,
	    "secret_file relative to the file");
	is_int(cfg.policy.cap_max, 3, "frequency_cap max");
	is_int(cfg.policy.cap_per, 7 * 86400, "frequency_cap per");
	is_int(cfg.policy.quiet_from, 21 * 60, "quiet_hours from");
	is_int(cfg.policy.quiet_to, 8 * 60 + 30, "quiet_hours to");
	is_str(cfg.policy.quiet_tz, "Asia/Jerusalem", "quiet_hours timezone");
	is_str(cfg.policy.exclude, "purchase within 2d", "exclude");
	is_int(cfg.policy.sunset, 180 * 86400, "sunset");
	nudge_config_free(&cfg);

	ok(load("channels:\n  email:\n    url: smtps://[::1]:465\n"
	    "    rate: 20\n    allow_plaintext: yes\n", &cfg, &err) == 0 &&
	    cfg.email.rate == 20 && cfg.email.allow_plaintext == 1 &&
	    cfg.policy.quiet_from == -1 && cfg.policy.cap_max == 0,
	    "smtps with an IPv6 host, a bare rate, unset policy");
	nudge_config_free(&cfg);
	ok(load("channels:\n  email:\n    url: file:///var/spool/nudge\n",
	    &cfg, &err) == 0, "a file:/// transport");
	nudge_config_free(&cfg);
}

/* Each case: the file, the exact message (the directory cut off). */
static void
test_errors(void)
{
	static const char *const cases[][2] = {
		{ "channels:\n  email:\n    url: smtp://h:25\n    colour: red\n",
		  "c.yaml:4:13: channels: email: unknown setting \"colour\"" },
		{ "channels:\n  fax: {}\n",
		  "c.yaml:2:8: channels: unknown setting \"fax\"" },
		{ "channels:\n  sms:\n    sender: {XX: Shop}\n",
		  "c.yaml:3:18: channels: sms: sender: XX: not \"default\" or a "
		  "country nudge knows (IL, US, ...)" },
		{ "channels:\n  push:\n    url: ftp://x\n",
		  "c.yaml:3:10: channels: push: url: expected http://, https://, "
		  "exec: or file:///, not \"ftp://x\"" },
		{ "channels:\n  push:\n    stop_text: STOP\n",
		  "c.yaml:3:16: channels: push: unknown setting \"stop_text\"" },
		{ "policy:\n  frequency_cap: {max: 3, per: 7d, burst: 2}\n",
		  "c.yaml:2:43: policy: frequency_cap: unknown setting "
		  "\"burst\"" },
		{ "tracking:\n  base: x\n",
		  "c.yaml:2:9: tracking: unknown setting \"base\"" },
		{ "policy:\n  quiet: 1\n",
		  "c.yaml:2:10: policy: unknown setting \"quiet\"" },
		{ "colour: red\n",
		  "c.yaml:1:9: unknown setting \"colour\"" },
		{ "channels:\n  email:\n    url: http://h\n",
		  "c.yaml:3:10: channels: email: url: expected "
		  "smtp://host:port, smtps://host:port or file:///dir, not "
		  "\"http://h\"" },
		{ "channels:\n  email:\n    url: smtp://h:99999\n",
		  "c.yaml:3:10: channels: email: url: bad port in "
		  "\"smtp://h:99999\"" },
		{ "channels:\n  email:\n    url: smtp://\n",
		  "c.yaml:3:10: channels: email: url: no host in "
		  "\"smtp://\"" },
		{ "channels:\n  email:\n    from: Shop <news@>\n",
		  "c.yaml:3:11: channels: email: from: no domain: "
		  "\"Shop <news@>\"" },
		{ "channels:\n  email:\n    parallel: 0\n",
		  "c.yaml:3:15: channels: email: parallel: expected a whole "
		  "number from 1 to 64, not \"0\"" },
		{ "channels:\n  email:\n    rate: fast\n",
		  "c.yaml:3:11: channels: email: rate: expected a rate such as "
		  "20/s, 600/m or 1000/h, not \"fast\"" },
		{ "channels:\n  email:\n    allow_plaintext: maybe\n",
		  "c.yaml:3:22: channels: email: allow_plaintext: expected "
		  "true or false, not \"maybe\"" },
		{ "channels:\n  email:\n    password_env: 1BAD\n",
		  "c.yaml:3:19: channels: email: password_env: expected the "
		  "name of an environment variable, not \"1BAD\"" },
		{ "channels:\n  email:\n    password_env: P\n"
		  "    password_file: p.txt\n",
		  "c.yaml:4:20: channels: email: password_file: give only one "
		  "of password, password_env and password_file" },
		{ "tracking:\n  base_url: ftp://x\n",
		  "c.yaml:2:13: tracking: base_url: expected an http:// or "
		  "https:// URL, not \"ftp://x\"" },
		{ "policy:\n  frequency_cap: {max: 3}\n",
		  "c.yaml:2:18: policy: frequency_cap: needs both max and per, "
		  "as in {max: 3, per: 7d}" },
		{ "policy:\n  frequency_cap: {max: 3, per: week}\n",
		  "c.yaml:2:32: policy: frequency_cap: per: expected a duration "
		  "such as 12h, 7d or 4w, not \"week\"" },
		{ "policy:\n  quiet_hours: {from: \"25:00\", to: \"08:00\"}\n",
		  "c.yaml:2:23: policy: quiet_hours: from: expected a time of "
		  "day such as 08:00 or 21:30, not \"25:00\"" },
		{ "policy:\n  quiet_hours: {from: \"21:00\", to: \"08:00\", "
		  "timezone: Mars/Olympus}\n",
		  "c.yaml:2:55: policy: quiet_hours: timezone: unknown time "
		  "zone \"Mars/Olympus\"; expected a name such as Europe/Paris "
		  "or Asia/Jerusalem" },
		{ "policy:\n  exclude: purchase within\n",
		  "c.yaml:2:12: policy: exclude: column 16: expected a duration "
		  "such as 7d after \"within\", got the end of the "
		  "expression" },
		{ "policy:\n  sunset: soon\n",
		  "c.yaml:2:11: policy: sunset: expected a duration such as "
		  "12h, 7d or 4w, not \"soon\"" },
		{ "policy: strict\n",
		  "c.yaml:1:9: policy: expected a map of settings" },
	};
	nudge_config cfg;
	nudge_err err;
	size_t i;
	char desc[128];

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(desc, sizeof desc, "error case %zu: exit 65", i + 1);
		is_int(load(cases[i][0], &cfg, &err), EX_DATAERR, desc);
		snprintf(desc, sizeof desc, "error case %zu: the message", i + 1);
		is_str(msg(&err), cases[i][1], desc);
	}
}

static void
test_secrets(void)
{
	static const char inl[] =
	    "channels:\n  email:\n    password: hunter2-SECRET\n";
	nudge_config cfg;
	nudge_err err;
	char *s;

	ok(nudge_config_load(&cfg, put("c.yaml", inl, 0644), &err) ==
	    EX_DATAERR, "an inline password in a 0644 file is refused");
	is_str(msg(&err), "c.yaml:3:15: channels: email: password: refused: "
	    "the file holds a secret but is readable or writable by group or "
	    "others (mode 0644); chmod 600 it, or use password_env or "
	    "password_file", "the reason names the mode and the way out");
	ok(strstr(err.msg, "hunter2") == NULL, "and not the password");
	ok(nudge_config_load(&cfg, put("c.yaml", "tracking:\n  secret: "
	    "hunter2-SECRET\n", 0640), &err) == EX_DATAERR &&
	    strstr(err.msg, "tracking: secret: refused") != NULL &&
	    strstr(err.msg, "hunter2") == NULL,
	    "an inline tracking secret in a 0640 file is refused");
	ok(nudge_config_load(&cfg, put("c.yaml", "channels:\n  email:\n"
	    "    password: [hunter2-SECRET]\n", 0600), &err) == EX_DATAERR &&
	    strstr(err.msg, "hunter2") == NULL,
	    "a malformed password is not quoted");

	ok(load(inl, &cfg, &err) == 0, "an inline password in a 0600 file");
	ok(nudge_config_secret(&cfg, NUDGE_SECRET_EMAIL_PASSWORD, &s,
	    &err) == 0 && s != NULL && strcmp(s, "hunter2-SECRET") == 0,
	    "is the password");
	nudge_config_secret_free(s);
	ok(nudge_config_secret(&cfg, NUDGE_SECRET_TRACKING, &s, &err) == 0 &&
	    s == NULL, "no tracking secret is NULL");
	nudge_config_free(&cfg);

	ok(load("channels:\n  email:\n    password_env: NUDGE_T_PW\n", &cfg,
	    &err) == 0, "password_env");
	unsetenv("NUDGE_T_PW");
	ok(nudge_config_secret(&cfg, NUDGE_SECRET_EMAIL_PASSWORD, &s,
	    &err) == EX_DATAERR, "an unset variable is an error");
	is_str(err.msg, "password_env: the environment variable NUDGE_T_PW "
	    "is not set", "naming the variable");
	setenv("NUDGE_T_PW", "s3cret-from-env", 1);
	ok(nudge_config_secret(&cfg, NUDGE_SECRET_EMAIL_PASSWORD, &s,
	    &err) == 0 && s != NULL && strcmp(s, "s3cret-from-env") == 0,
	    "the variable's value");
	nudge_config_secret_free(s);
	nudge_config_free(&cfg);

	ok(load("tracking:\n  secret_file: key.txt\n", &cfg, &err) == 0,
	    "secret_file");
	ok(nudge_config_secret(&cfg, NUDGE_SECRET_TRACKING, &s, &err) ==
	    EX_NOINPUT && strstr(err.msg, "/key.txt: No such file") != NULL,
	    "a missing secret file is EX_NOINPUT");
	put("key.txt", "tr4cking-key\n", 0644);
	ok(nudge_config_secret(&cfg, NUDGE_SECRET_TRACKING, &s, &err) ==
	    EX_DATAERR, "a 0644 secret file is refused");
	ok(strncmp(err.msg, "secret_file ", 12) == 0 &&
	    strncmp(err.msg + 12, dir, strlen(dir)) == 0 &&
	    strcmp(err.msg + 12 + strlen(dir), "/key.txt: refused: readable "
	    "or writable by group or others (mode 0644); chmod 600 it") == 0,
	    "the message names the file and the mode");
	ok(strstr(err.msg, "refused: readable or writable by group or others "
	    "(mode 0644); chmod 600 it") != NULL &&
	    strstr(err.msg, "tr4cking") == NULL,
	    "with the mode as reason and no secret");
	chmod(path, 0400);
	ok(nudge_config_secret(&cfg, NUDGE_SECRET_TRACKING, &s, &err) == 0 &&
	    s != NULL && strcmp(s, "tr4cking-key") == 0,
	    "a 0400 secret file is read, its newline dropped");
	nudge_config_secret_free(s);
	nudge_config_free(&cfg);
}

int
main(void)
{
	char cmd[128];

	if (mkdtemp(dir) == NULL)
		return 1;
	test_full();
	test_errors();
	test_secrets();
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# cleanup failed\n");
	return done_testing();
}
