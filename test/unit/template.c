/* Unit tests for lib/template: parse errors with positions, defaults,
 * filters, missing fields, escaping by context, header injection; then
 * every data-driven case in test/template/. */
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "template.h"

/* A contact: name=value pairs with explicit lengths (values may hold
 * NUL). */
struct field {
	const char *name, *val;
	size_t len;
};

struct contact {
	struct field f[16];
	size_t n;
};

static const char *
lookup(void *ctx, const char *name, size_t *len)
{
	struct contact *c = ctx;
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->f[i].name, name) == 0) {
			*len = c->f[i].len;
			return c->f[i].val;
		}
	return NULL;
}

static void
set(struct contact *c, const char *name, const char *val, size_t len)
{
	c->f[c->n].name = name;
	c->f[c->n].val = val;
	c->f[c->n].len = len;
	c->n++;
}
#define SET(c, n, v) set((c), (n), (v), sizeof(v) - 1)

static nudge_tpl *
parse(const char *src)
{
	nudge_tpl *t = NULL;
	nudge_err err;

	if (nudge_tpl_parse("t.tpl", src, strlen(src), NULL, 0, &t, &err) != 0)
		printf("# unexpected: %s\n", err.msg);
	return t;
}

static void
parse_err(const char *src, const char *want, const char *desc)
{
	nudge_tpl *t = NULL;
	nudge_err err;
	int rc = nudge_tpl_parse("t.tpl", src, strlen(src), NULL, 0, &t, &err);

	if (is_int(rc, EX_DATAERR, desc))
		is_str(err.msg, want, desc);
	else
		ok(0, desc);
	nudge_tpl_free(t);
}

/* Renders src for c; returns part k, or "ERROR: msg". */
static const char *
render(const char *src, struct contact *c, int k)
{
	static char res[8192];
	nudge_tpl_out o = {0};
	nudge_tpl *t = parse(src);
	nudge_err err;

	if (t == NULL)
		return "PARSE FAILED";
	if (nudge_tpl_render(t, lookup, c, &o, &err) != 0)
		snprintf(res, sizeof res, "ERROR: %s", err.msg);
	else
		snprintf(res, sizeof res, "%s", nudge_buf_str(&o.part[k]));
	nudge_tpl_out_free(&o);
	nudge_tpl_free(t);
	return res;
}

static void
test_errors(void)
{
	parse_err("Subject: Hi {{first_name\n\nbody\n",
	    "t.tpl:1:13: this \"{{\" has no closing \"}}\" on its line",
	    "unclosed {{ in a header");
	parse_err("Subject: x\n\nline\nHi {{first_name:shout}}\n",
	    "t.tpl:4:17: unknown filter (upper, lower, title, money, date "
	    "or number): \"shout\"",
	    "unknown filter, with its column");
	parse_err("Subject: x\nX-Mailer: me\n\nbody\n",
	    "t.tpl:2:1: unknown header (Subject, From, Reply-To, Preheader, "
	    "Title, X-Nudge-Missing, X-Nudge-Track): \"X-Mailer\"",
	    "unknown header");
	parse_err("Hello there\n\nbody\n",
	    "t.tpl:1:1: expected a header line \"Name: value\" or a blank "
	    "line: \"Hello there\"", "no headers");
	parse_err("Subject: שלום {{x\n\n", "t.tpl:1:15: this \"{{\" has no "
	    "closing \"}}\" on its line", "column counts characters");
	parse_err("Subject: x\n\n{{ 1x }}\n", "t.tpl:3:4: expected a field "
	    "name after \"{{\": \"1x\"", "a bad field name");
	parse_err("Subject: x\n\n{{a b}}\n", "t.tpl:3:5: expected \":filter\", "
	    "\"|default\" or \"}}\": \"b\"", "junk after the name");
	parse_err("Subject: x\nSubject: y\n\n", "t.tpl:2:1: header given "
	    "twice: \"Subject\"", "a header twice");
	parse_err("Subject: x\n\nt\n--- html ---\n<a href={{u}}>x</a>\n",
	    "t.tpl:5:9: a placeholder in an attribute value needs quotes "
	    "around the value", "unquoted attribute in HTML");
	parse_err("Subject: x\n\nt\n--- html ---\n<script>var a='{{x}}'"
	    "</script>\n", "t.tpl:5:16: a placeholder cannot go in a <script> "
	    "or <style>", "placeholder in script");
	parse_err("Subject: x\n\nt\n--- html ---\n<p onclick=\"f('{{x}}')\">\n",
	    "t.tpl:5:16: a placeholder cannot go in a style or on* attribute",
	    "placeholder in an event handler");
	parse_err("Subject: x\n\nt\n--- html ---\n<p {{x}}>\n",
	    "t.tpl:5:4: a placeholder cannot go inside a tag, only in text or "
	    "in a quoted attribute value", "placeholder as an attribute");
	parse_err("Subject: x\nX-Nudge-Missing: maybe\n\n",
	    "t.tpl:2:18: X-Nudge-Missing is skip or empty: \"maybe\"",
	    "bad X-Nudge-Missing");
	parse_err("Subject: x", "t.tpl:2:1: expected a blank line after the "
	    "headers", "no blank line");
}

static void
test_render(void)
{
	struct contact c = {0};
	const char *tpl = "Subject: Hi {{first_name:title|friend}}\n\n"
	    "Hi {{first_name|friend}}, from {{attrs.city}}.\n";

	SET(&c, "first_name", "dana");
	SET(&c, "attrs.city", "Haifa");
	is_str(render(tpl, &c, NUDGE_TPL_SUBJECT), "Hi Dana", "title filter");
	is_str(render(tpl, &c, NUDGE_TPL_TEXT), "Hi dana, from Haifa.\n",
	    "fields and attrs");
	c.n = 0;
	SET(&c, "attrs.city", "Haifa");
	is_str(render(tpl, &c, NUDGE_TPL_SUBJECT), "Hi friend",
	    "default when missing");
	c.n = 0;
	SET(&c, "first_name", "  ");
	SET(&c, "attrs.city", "Haifa");
	is_str(render(tpl, &c, NUDGE_TPL_TEXT), "Hi friend, from Haifa.\n",
	    "a blank value takes the default");
	c.n = 0;
	SET(&c, "first_name", "dana");
	is_str(render(tpl, &c, NUDGE_TPL_TEXT),
	    "ERROR: no value for field \"attrs.city\" and no default",
	    "missing field without default fails, naming it");
	is_str(render("X-Nudge-Missing: empty\nSubject: x\n\n"
	    "[{{attrs.city}}]\n", &c, NUDGE_TPL_TEXT), "[]\n",
	    "X-Nudge-Missing: empty renders nothing");
	c.n = 0;
	SET(&c, "n", "jean-luc o'neil ÉCOLE élan");
	is_str(render("Subject: {{n:upper}}\n\n", &c, NUDGE_TPL_SUBJECT),
	    "JEAN-LUC O'NEIL ÉCOLE ÉLAN", "upper, with Latin-1 letters");
	is_str(render("Subject: {{n:lower}}\n\n", &c, NUDGE_TPL_SUBJECT),
	    "jean-luc o'neil école élan", "lower");
	is_str(render("Subject: {{n:lower:title}}\n\n", &c, NUDGE_TPL_SUBJECT),
	    "Jean-Luc O'Neil École Élan", "filters chain");
	c.n = 0;
	SET(&c, "n", "DON'T d'angelo mary-ann");
	is_str(render("Subject: {{n:title}}\n\n", &c, NUDGE_TPL_SUBJECT),
	    "Don't D'Angelo Mary-Ann", "title after an apostrophe");
	c.n = 0;
	SET(&c, "n", "דנה");
	is_str(render("Subject: {{n:upper}}!\n\n", &c, NUDGE_TPL_SUBJECT),
	    "דנה!", "Hebrew has no case");
	is_str(render("Subject: a {{ n }} b\n\n", &c, NUDGE_TPL_SUBJECT),
	    "a דנה b", "spaces inside the braces");
	is_str(render("Subject: {{x|}}z\n\n", &c, NUDGE_TPL_SUBJECT), "z",
	    "an empty default");
	is_str(render("Subject: {{x| a | b }}\n\n", &c, NUDGE_TPL_SUBJECT),
	    "a | b", "a default is trimmed and may hold |");
}

static void
test_escaping(void)
{
	struct contact c = {0};
	const char *tpl = "Subject: {{n}}\n\n{{n}}\n--- html ---\n"
	    "<p title=\"{{n}}\">{{n}}</p>\n";
	const char *url = "Subject: x\n\nx\n--- html ---\n"
	    "<a href=\"https://shop.example/?city={{c}}&amp;q=1\">"
	    "<img src='{{u}}' alt='{{c}}'></a>\n";

	SET(&c, "n", "<script>alert(\"x\")</script>'&");
	is_str(render(tpl, &c, NUDGE_TPL_HTML),
	    "<p title=\"&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
	    "&#39;&amp;\">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
	    "&#39;&amp;</p>\n", "HTML text and attributes escaped");
	is_str(render(tpl, &c, NUDGE_TPL_TEXT),
	    "<script>alert(\"x\")</script>'&\n", "the text part is as is");
	c.n = 0;
	SET(&c, "c", "Tel Aviv/יפו&\"x\"");
	SET(&c, "u", "https://cdn.example/a.png?x=1&y=\"2\"");
	is_str(render(url, &c, NUDGE_TPL_HTML),
	    "<a href=\"https://shop.example/?city=Tel%20Aviv%2F%D7%99%D7%A4"
	    "%D7%95%26%22x%22&amp;q=1\"><img src='https://cdn.example/a.png?"
	    "x=1&amp;y=&quot;2&quot;' alt='Tel Aviv/יפו&amp;&quot;x&quot;'>"
	    "</a>\n", "URL-encoded inside an href, HTML-escaped a whole URL");
	c.n = 0;
	SET(&c, "c", "x");
	SET(&c, "u", "javascript:alert(1)");
	is_str(render(url, &c, NUDGE_TPL_HTML),
	    "ERROR: field \"u\" is not an http, https or mailto URL: "
	    "\"javascript:alert(1)\"", "javascript: URL refused");
	c.n = 0;
	SET(&c, "n", "<b>");
	is_str(render("Subject: x\n\nt\n--- html ---\n<style>p{}</style>"
	    "<!-- {{n}} --><p>{{n}}</p>\n", &c, NUDGE_TPL_HTML),
	    "<style>p{}</style><!-- &lt;b&gt; --><p>&lt;b&gt;</p>\n",
	    "text after </style> and in comments escaped");
}

static void
test_headers(void)
{
	struct contact c = {0};
	char long_name[3000];
	const char *r;

	SET(&c, "first_name", "Dana\r\nBcc: victim@example.com\r\n\r\n\0x");
	r = render("Subject: Hi {{first_name}}!\n\n", &c, NUDGE_TPL_SUBJECT);
	is_str(r, "Hi Dana Bcc: victim@example.com x!",
	    "CR/LF/NUL in a field: one space per run in a header");
	ok(strpbrk(r, "\r\n") == NULL, "no CR or LF reaches the subject");
	r = render("Subject: x\n\nHi {{first_name}}\n", &c, NUDGE_TPL_TEXT);
	is_str(r, "Hi Dana\nBcc: victim@example.com\n\nx\n",
	    "the text part keeps LF, drops CR and NUL");
	memset(long_name, 'a', sizeof long_name);
	c.n = 0;
	set(&c, "first_name", long_name, sizeof long_name);
	r = render("Subject: Hi {{first_name}}\n\n", &c, NUDGE_TPL_SUBJECT);
	is_int(strlen(r), 998 - strlen("Subject: "),
	    "a long subject is cut to one 998-octet line");
	c.n = 0;
	SET(&c, "first_name", "אבגדהוזחטיכלמנסעפצקרשת"
	    "אבגדהוזחטיכלמנסעפצקרשתאבגדהוזחטיכלמנסעפצקרשת"
	    "אבגדהוזחטיכלמנסעפצקרשתאבגדהוזחטיכלמנסעפצקרשת"
	    "אבגדהוזחטיכלמנסעפצקרשתאבגדהוזחטיכלמנסעפצקרשת"
	    "אבגדהוזחטיכלמנסעפצקרשתאבגדהוזחטיכלמנסעפצקרשת"
	    "אבגדהוזחטיכלמנסעפצקרשתאבגדהוזחטיכלמנסעפצקרשת"
	    "אבגדהוזחטיכלמנסעפצקרשתאבגדהוזחטיכלמנסעפצקרשת"
	    "אבגדהוזחטיכלמנסעפצקרשתאבגדהוזחטיכלמנסעפצקרשת"
	    "אבגדהוזחטיכלמנסעפצקרשתאבגדהוזחטיכלמנסעפצקרשת"
	    "אבגדהוזחטיכלמנסעפצקרשתאבגדהוזחטיכלמנסעפצקרשת"
	    "אבגדהוזחטיכלמנסעפצקרשתאבגדהוזחטיכלמנסעפצקרשת");
	r = render("Subject: x{{first_name}}\n\n", &c, NUDGE_TPL_SUBJECT);
	ok(strlen(r) <= 998 - strlen("Subject: ") && strlen(r) % 2 == 1,
	    "a Hebrew subject is cut on a character boundary");
}

/* The data-driven cases: NAME.tpl (a template), NAME.vars (name=value
 * lines, \n \r \t \0 \\ escapes), NAME.want (what the parts render to, or
 * the error). */
static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	nudge_buf b = {0};
	char chunk[4096];
	size_t n;

	if (fp == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		nudge_buf_add(&b, chunk, n);
	fclose(fp);
	nudge_buf_add(&b, "", 0);
	*len = b.len;
	return b.s;
}

static void
read_vars(const char *path, struct contact *c, char *store)
{
	size_t len, i, o = 0;
	char *s = slurp(path, &len), *line, *save = NULL;

	c->n = 0;
	if (s == NULL)
		return;
	for (line = strtok_r(s, "\n", &save); line != NULL && c->n < 16;
	    line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		size_t start;

		if (eq == NULL || *line == '#')
			continue;
		*eq = '\0';
		start = o;
		strcpy(store + o, line);
		c->f[c->n].name = store + o;
		o += strlen(line) + 1;
		start = o;
		for (i = 1; eq[i]; i++) {
			char ch = eq[i];

			if (ch == '\\' && eq[i + 1]) {
				i++;
				ch = eq[i] == 'n' ? '\n' : eq[i] == 'r' ? '\r' :
				    eq[i] == 't' ? '\t' : eq[i] == '0' ? '\0' :
				    eq[i];
			}
			store[o++] = ch;
		}
		c->f[c->n].val = store + start;
		c->f[c->n].len = o - start;
		store[o++] = '\0';
		c->n++;
	}
	free(s);
}

static void
test_cases(const char *dir)
{
	static const char *const names[] = {
		"subject", "from", "reply-to", "preheader", "title",
	};
	struct dirent **ents;
	int i, n = scandir(dir, &ents, NULL, alphasort);

	ok(n > 0, "test/template/ has cases");
	for (i = 0; i < n; i++) {
		char path[1024], *want, store[8192];
		size_t len, wl, k;
		struct contact c;
		nudge_tpl *t = NULL;
		nudge_tpl_out o = {0};
		nudge_err err;
		nudge_buf got = {0};
		char *dot = strrchr(ents[i]->d_name, '.');

		if (dot == NULL || strcmp(dot, ".tpl") != 0) {
			free(ents[i]);
			continue;
		}
		*dot = '\0';
		snprintf(path, sizeof path, "%s/%s.vars", dir, ents[i]->d_name);
		read_vars(path, &c, store);
		snprintf(path, sizeof path, "%s/%s.want", dir, ents[i]->d_name);
		want = slurp(path, &wl);
		snprintf(path, sizeof path, "%s/%s.tpl", dir, ents[i]->d_name);
		if (nudge_tpl_load(path, &t, &err) != 0)
			nudge_buf_printf(&got, "error: %s\n", err.msg);
		else if (nudge_tpl_render(t, lookup, &c, &o, &err) != 0)
			nudge_buf_printf(&got, "render error: %s\n", err.msg);
		else {
			unsigned parts = nudge_tpl_parts(t);

			for (k = 0; k < NUDGE_TPL_TEXT; k++)
				if (parts & (1u << k))
					nudge_buf_printf(&got, "%s: %s\n",
					    names[k], nudge_buf_str(&o.part[k]));
			nudge_buf_printf(&got, "--- text ---\n%s",
			    nudge_buf_str(&o.part[NUDGE_TPL_TEXT]));
			if (parts & (1u << NUDGE_TPL_HTML))
				nudge_buf_printf(&got, "--- html ---\n%s",
				    nudge_buf_str(&o.part[NUDGE_TPL_HTML]));
		}
		snprintf(path, sizeof path, "case %s", ents[i]->d_name);
		is_str(nudge_buf_str(&got), want ? want : "(no .want file)",
		    path);
		(void)len;
		free(want);
		nudge_buf_free(&got);
		nudge_tpl_out_free(&o);
		nudge_tpl_free(t);
		free(ents[i]);
	}
	free(ents);
}


/* Blocks: condition i holds when the contact has the field "ifN" = "1". */
static int
cond(void *ctx, size_t i, int *truth, nudge_err *err)
{
	char name[16];
	size_t n = 0;
	const char *v;

	(void)err;
	snprintf(name, sizeof name, "if%zu", i);
	v = lookup(ctx, name, &n);
	*truth = v != NULL && n == 1 && *v == '1';
	return 0;
}

/* Renders src for c with conditions and currency cur; part k, or
 * "ERROR: msg". */
static const char *
render_env(const char *src, struct contact *c, int k, const char *cur)
{
	static char res[8192];
	nudge_tpl_out o = {0};
	nudge_tpl *t = parse(src);
	nudge_tpl_env env = { lookup, cond, c, cur, "Asia/Jerusalem" };
	nudge_err err;

	if (t == NULL)
		return "PARSE FAILED";
	if (nudge_tpl_render_env(t, &env, &o, &err) != 0)
		snprintf(res, sizeof res, "ERROR: %s", err.msg);
	else
		snprintf(res, sizeof res, "%s", nudge_buf_str(&o.part[k]));
	nudge_tpl_out_free(&o);
	nudge_tpl_free(t);
	return res;
}
#define TEXT NUDGE_TPL_TEXT
#define HTML NUDGE_TPL_HTML

static int
count_field(void *ctx, const char *name, int has_def, const char *where)
{
	nudge_buf *b = ctx;

	(void)has_def;
	return nudge_buf_printf(b, "%s@%s;", name, where) == -1;
}

static int
count_cond(void *ctx, size_t i, const char *c, const char *where)
{
	nudge_buf *b = ctx;

	return nudge_buf_printf(b, "%zu:%s@%s;", i, c, where) == -1;
}

static void
test_blocks(void)
{
	static const char items[] = "[{\"name\":\"Tea <b>\",\"quantity\":2,"
	    "\"price\":12.5,\"tags\":[\"x\",\"y\"]},{\"name\":\"Cup\\u00e9 "
	    "\\ud83d\\ude00\",\"quantity\":1,\"price\":1210,\"currency\":"
	    "\"eur\"}]";
	static const char *const amounts[][2] = {
		{ "0.125", "$0.12 0.12\n" }, { "1.005", "$1.00 1\n" },
		{ "12.25", "$12.25 12.25\n" }, { "-0.0", "$0.00 0\n" },
		{ "1e3", "$1,000.00 1,000\n" }, { "0.1", "$0.10 0.1\n" },
		{ "-5.5", "-$5.50 -5.5\n" },
	};
	struct contact c = {0};
	nudge_tpl *t;
	nudge_buf b = {0};
	size_t n, i;

	SET(&c, "first_name", "Dana");
	SET(&c, "latest.purchase.items", items);
	SET(&c, "latest.purchase.total", "1234.5");
	SET(&c, "latest.purchase.currency", "ILS");
	SET(&c, "if0", "1");
	SET(&c, "if1", "0");
	is_str(render_env("Subject: x\n\n{{#if a}}yes{{else}}no{{/if}} "
	    "{{#if b}}yes{{else}}no{{/if}}\n", &c, TEXT, NULL), "yes no\n",
	    "#if picks its branch by the condition's truth");
	is_str(render_env("Subject: {{#if a}}A{{/if}}{{#if b}}B{{/if}}!\n\n",
	    &c, NUDGE_TPL_SUBJECT, NULL), "A!", "blocks in a header");
	is_str(render_env("Subject: x\n\n{{#if a}}\nline\n{{/if}}\nend\n", &c,
	    TEXT, NULL), "line\nend\n",
	    "a block tag alone on its line leaves no blank line");
	is_str(render_env("Subject: x\n\n{{#each latest.purchase.items}}"
	    "{{name}} x{{quantity}} {{price:money}};{{/each}}\n", &c, TEXT,
	    NULL), "Tea <b> x2 \xe2\x82\xaa" "12.50;Cup\xc3\xa9 \xf0\x9f\x98\x80 x1 "
	    "\xe2\x82\xac" "1,210.00;\n",
	    "#each over a JSON list: members, \\u escapes, the item's or the "
	    "list owner's currency");
	is_str(render_env("Subject: x\n\nt\n--- html ---\n<ul>{{#each "
	    "latest.purchase.items}}<li title=\"{{name}}\">{{name}}</li>"
	    "{{/each}}</ul>\n", &c, HTML, NULL), "<ul><li title=\"Tea &lt;b&gt;"
	    "\">Tea &lt;b&gt;</li><li title=\"Cup\xc3\xa9 \xf0\x9f\x98\x80\">"
	    "Cup\xc3\xa9 \xf0\x9f\x98\x80</li></ul>\n",
	    "escaping by context applies inside a loop");
	is_str(render_env("Subject: x\n\n{{#each latest.purchase.items}}"
	    "[{{#each tags}}{{this}}{{first_name}}{{/each}}]{{/each}}\n", &c,
	    TEXT, NULL), "[xDanayDana][]\n",
	    "nested loops, this, the contact's fields inside a loop");
	is_str(render_env("Subject: x\n\n{{#each latest.cart.items}}x"
	    "{{else}}empty{{/each}}\n", &c, TEXT, NULL), "empty\n",
	    "#each else: no such list");
	is_str(render_env("Subject: x\n\n{{#each first_name}}x{{/each}}\n", &c,
	    TEXT, NULL), "ERROR: t.tpl:3:9: field \"first_name\" is not a list",
	    "#each over a non-list is an error naming its place");
	is_str(render_env("Subject: x\n\n{{latest.purchase.total:money}} "
	    "{{latest.purchase.total:number}} {{first_name:money|-}}\n", &c,
	    TEXT, NULL), "ERROR: field \"first_name\" is not a number: "
	    "\"Dana\"", ":money of a word is an error");
	is_str(render_env("Subject: x\n\n{{latest.purchase.total:money}} "
	    "{{latest.purchase.total:number}}\n", &c, TEXT, NULL),
	    "\xe2\x82\xaa" "1,234.50 1,234.5\n", ":money with the currency beside "
	    "the value, :number");
	c.n = 0;
	SET(&c, "v", "-1234567.891");
	SET(&c, "z", "0.001");
	SET(&c, "t", "2026-11-01T23:30:00Z");
	SET(&c, "u", "1793575800");
	is_str(render_env("Subject: x\n\n{{v:money}} {{v:number}} {{z:number}} "
	    "{{z:money}}\n", &c, TEXT, "usd"), "-$1,234,567.89 -1,234,567.89 0 "
	    "$0.00\n", "money in the environment's currency; rounding");
	/* whole cents from integers, the rest (a tie, a third decimal)
	 * as printf rounds them: a value, its :money, its :number */
	for (i = 0; i < sizeof amounts / sizeof amounts[0]; i++) {
		c.n = 0;
		set(&c, "v", amounts[i][0], strlen(amounts[i][0]));
		is_str(render_env("Subject: x\n\n{{v:money}} {{v:number}}\n", &c,
		    TEXT, "USD"), amounts[i][1], amounts[i][0]);
	}
	c.n = 0;
	SET(&c, "v", "-1234567.891");
	SET(&c, "t", "2026-11-01T23:30:00Z");
	SET(&c, "u", "1793575800");
	is_str(render_env("Subject: x\n\n{{v:money}}\n", &c, TEXT, "CHF"),
	    "-CHF 1,234,567.89\n", "a currency with no sign of its own");
	is_str(render_env("Subject: x\n\n{{v:money}}\n", &c, TEXT, NULL),
	    "-1,234,567.89\n", "no currency at all");
	is_str(render_env("Subject: x\n\n{{t:date}} {{u:date}}\n", &c, TEXT,
	    NULL), "2 November 2026 2 November 2026\n",
	    ":date in the environment's zone, from ISO 8601 or Unix seconds");
	SET(&c, "attrs.tz", "America/New_York");
	is_str(render_env("Subject: x\n\n{{t:date}}\n", &c, TEXT, NULL),
	    "1 November 2026\n", ":date in the contact's attrs.tz");
	is_str(render_env("Subject: x\n\n{{first_name:date|soon}}\n", &c, TEXT,
	    NULL), "soon\n", "a missing value takes its default, unfiltered");

	parse_err("Subject: x\n\n{{#if a}}\nx\n", "t.tpl:3:7: this {{#if}} "
	    "is never closed with {{/if}}", "a block never closed");
	parse_err("Subject: x\n\nok\n{{#each a}}{{#if b}}x{{/each}}{{/if}}\n",
	    "t.tpl:4:22: expected {{/if}} to close the {{#if}} of line 4 "
	    "column 18: \"{{/each}}\"", "blocks closed out of order");
	parse_err("Subject: x\n\n{{/if}}\n", "t.tpl:3:1: this closes no block: "
	    "\"{{/if}}\"", "a close with no block");
	parse_err("Subject: x\n\n{{else}}\n", "t.tpl:3:1: this {{else}} is in "
	    "no {{#if}} or {{#each}}", "an else with no block");
	parse_err("Subject: x\n\n{{#if a}}{{else}}{{else}}{{/if}}\n",
	    "t.tpl:3:18: a second {{else}} in one block", "two elses");
	parse_err("Subject: x\n\n{{#unless a}}{{/unless}}\n",
	    "t.tpl:3:4: unknown block (#if or #each): \"unless a\"",
	    "an unknown block");
	parse_err("Subject: x\n\n{{#if}}x{{/if}}\n",
	    "t.tpl:3:1: {{#if}} needs a condition", "an #if with no condition");
	parse_err("Subject: x\n\n{{#each a b}}x{{/each}}\n",
	    "t.tpl:3:10: expected \"}}\" after the path of #each: \" b\"",
	    "a bad #each path");
	parse_err("Subject: {{#if a}}x\n\nbody\n", "t.tpl:1:16: this {{#if}} is "
	    "never closed with {{/if}}", "a block cannot run out of a header");
	parse_err("Subject: x\n\nt\n--- html ---\n<a {{#if a}}x{{/if}}>\n",
	    "t.tpl:5:4: a block tag ({{#if}}, {{#each}}, {{else}}, {{/...}}) "
	    "can only sit in HTML text, not inside a tag or an attribute",
	    "a block inside a tag");
	parse_err("Subject: x\n\n{{#if 1}}{{#if 2}}{{#if 3}}{{#if 4}}{{#if 5}}"
	    "{{#if 6}}{{#if 7}}{{#if 8}}{{#if 9}}\n", "t.tpl:3:73: blocks nest "
	    "deeper than 8", "nesting is bounded");

	t = parse("Subject: {{first_name}}\n\n{{#if vip = 1}}x{{/if}}\n"
	    "{{#each latest.order.items}}{{name}}{{attrs.city}}"
	    "{{else}}{{last_name}}{{/each}}\n");
	if (t != NULL) {
		(void)nudge_tpl_each_field(t, count_field, &b);
		is_str(nudge_buf_str(&b), "first_name@t.tpl:1:12;"
		    "latest.order.items@t.tpl:4:9;attrs.city@t.tpl:4:39;"
		    "last_name@t.tpl:4:61;", "the field walk: #each paths, "
		    "fields after else, not the loop item's own names");
		nudge_buf_reset(&b);
		(void)nudge_tpl_each_cond(t, count_cond, &b, &n);
		is_str(nudge_buf_str(&b), "0:vip = 1@t.tpl:3:7;",
		    "the condition walk");
		is_int((long)n, 1, "and its count");
	}
	nudge_buf_free(&b);
	nudge_tpl_free(t);
}

static void
test_variants(void)
{
	struct contact c = {0};
	nudge_tpl *t = NULL;
	nudge_tpl_out o = {0};
	nudge_tpl_env env = { lookup, NULL, &c, NULL, NULL };
	nudge_err err;
	FILE *fp;

	(void)mkdir("variants.tmp", 0700);
	fp = fopen("variants.tmp/promo.txt", "w");
	fputs("Subject: Hello\n\nHi\n--- html ---\n<html><body>Hi</body></html>\n",
	    fp);
	fclose(fp);
	fp = fopen("variants.tmp/promo.he.txt", "w");
	fputs("Subject: שלום\n\nשלום\n--- html ---\n<html lang=\"he\">שלום"
	    "</html>\n", fp);
	fclose(fp);
	fp = fopen("variants.tmp/promo.ar.txt", "w");
	fputs("Subject: مرحبا\n\nمرحبا\n--- html ---\n<p>مرحبا</p>\n", fp);
	fclose(fp);
	fp = fopen("variants.tmp/promo.sms.txt", "w");  /* not a language */
	fputs("oops\n", fp);
	fclose(fp);
	if (!is_int(nudge_tpl_load("variants.tmp/promo.txt", &t, &err), 0,
	    "a template with language variants loads"))
		printf("# %s\n", err.msg);
	if (t != NULL) {
		is_int(nudge_tpl_render_env(t, &env, &o, &err), 0,
		    "renders for a contact with no lang");
		is_str(nudge_buf_str(&o.part[HTML]),
		    "<html><body>Hi</body></html>\n", "the default, as written");
		SET(&c, "attrs.lang", "he-IL");
		(void)nudge_tpl_render_env(t, &env, &o, &err);
		is_str(nudge_buf_str(&o.part[NUDGE_TPL_SUBJECT]), "שלום",
		    "he-IL picks the he variant");
		is_str(nudge_buf_str(&o.part[HTML]),
		    "<html dir=\"rtl\" lang=\"he\">שלום</html>\n",
		    "its HTML is right to left");
		c.n = 0;
		SET(&c, "attrs.lang", "AR");
		(void)nudge_tpl_render_env(t, &env, &o, &err);
		is_str(nudge_buf_str(&o.part[HTML]),
		    "<div dir=\"rtl\"><p>مرحبا</p>\n</div>",
		    "HTML with no <html> or <body> is wrapped");
		c.n = 0;
		SET(&c, "attrs.lang", "fr");
		(void)nudge_tpl_render_env(t, &env, &o, &err);
		is_str(nudge_buf_str(&o.part[NUDGE_TPL_SUBJECT]), "Hello",
		    "a language with no variant gets the default");
	}
	nudge_tpl_free(t);
	t = NULL;
	fp = fopen("variants.tmp/promo.de.txt", "w");
	fputs("Subject: Hallo\n\nHallo\n", fp);
	fclose(fp);
	is_int(nudge_tpl_load("variants.tmp/promo.txt", &t, &err), EX_DATAERR,
	    "a variant with other parts is refused");
	is_str(err.msg, "variants.tmp/promo.de.txt: a language variant has "
	    "other parts (Subject, text, HTML...) than variants.tmp/promo.txt",
	    "naming both files");
	nudge_tpl_free(t);
	nudge_tpl_out_free(&o);
	unlink("variants.tmp/promo.txt");
	unlink("variants.tmp/promo.he.txt");
	unlink("variants.tmp/promo.ar.txt");
	unlink("variants.tmp/promo.de.txt");
	unlink("variants.tmp/promo.sms.txt");
	rmdir("variants.tmp");
}

static void
test_samples(void)
{
	struct contact c = {0};
	nudge_tpl *t = NULL;
	nudge_tpl_out o = {0};
	nudge_err err;

	SET(&c, "first_name", "דנה");
	SET(&c, "attrs.city", "תל אביב");
	is_int(nudge_tpl_load("samples/templates/welcome.txt", &t, &err), 0,
	    "the sample email template loads");
	if (t == NULL)
		return;
	is_int(nudge_tpl_parts(t), 0x7f & ~(1u << NUDGE_TPL_TITLE),
	    "it has subject, from, reply-to, preheader, text and HTML");
	is_int(nudge_tpl_render(t, lookup, &c, &o, &err), 0, "and renders");
	is_str(nudge_buf_str(nudge_tpl_subject(&o)),
	    "דנה, ברוכים הבאים ל-Shop! 🎉", "its Hebrew subject");
	ok(strstr(nudge_buf_str(nudge_tpl_html(&o)), "href=\"https://shop."
	    "example/deals?city=%D7%AA%D7%9C%20%D7%90%D7%91%D7%99%D7%91\"")
	    != NULL, "the city is URL-encoded in the link");
	nudge_tpl_free(t);
	c.n = 0;
	is_int(nudge_tpl_load("samples/templates/cart.push", &t, &err), 0,
	    "the sample push template loads");
	is_int(nudge_tpl_render(t, lookup, &c, &o, &err), 0,
	    "and renders for a contact with no fields");
	is_str(nudge_buf_str(&o.part[NUDGE_TPL_TITLE]),
	    "היי, העגלה שלך מחכה", "its title takes the default");
	nudge_tpl_out_free(&o);
	nudge_tpl_free(t);
}

int
main(void)
{
	test_errors();
	test_render();
	test_escaping();
	test_headers();
	test_samples();
	test_blocks();
	test_variants();
	test_cases("test/template");
	return done_testing();
}
