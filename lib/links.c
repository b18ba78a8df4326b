/* links: rewriting links of outgoing messages into tracked ones. */
#include "links.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "token.h"

struct nudge_links {
	char *base;         /* no trailing '/' */
	char *secret;
	size_t keylen;
	nudge_buf tmp, url;
};

int
nudge_links_open(nudge_links **out, const nudge_config *cfg, nudge_err *err)
{
	nudge_links *l;
	char *secret = NULL;
	size_t n;
	int rc;

	*out = NULL;
	if (cfg == NULL || cfg->tracking.base_url == NULL)
		return 0;
	if ((rc = nudge_config_secret(cfg, NUDGE_SECRET_TRACKING, &secret,
	    err)) != 0)
		return rc;
	if (secret == NULL)
		return nudge_errf(err, EX_USAGE, "tracking: base_url needs a "
		    "secret (secret_env, secret_file or secret)");
	if ((l = calloc(1, sizeof *l)) == NULL ||
	    (l->base = strdup(cfg->tracking.base_url)) == NULL) {
		free(l);
		nudge_config_secret_free(secret);
		return nudge_errf(err, EX_OSERR, "out of memory");
	}
	n = strlen(l->base);
	while (n > 0 && l->base[n - 1] == '/')
		l->base[--n] = '\0';
	l->secret = secret;
	l->keylen = strlen(secret);
	*out = l;
	return 0;
}

int
nudge_links_clone(const nudge_links *l, nudge_links **out, nudge_err *err)
{
	nudge_links *c;

	*out = NULL;
	if (l == NULL)
		return 0;
	if ((c = calloc(1, sizeof *c)) == NULL ||
	    (c->base = strdup(l->base)) == NULL ||
	    (c->secret = strdup(l->secret)) == NULL) {
		nudge_links_close(c);
		return nudge_errf(err, EX_OSERR, "out of memory");
	}
	c->keylen = l->keylen;
	*out = c;
	return 0;
}

void
nudge_links_close(nudge_links *l)
{
	if (l == NULL)
		return;
	nudge_config_secret_free(l->secret);
	free(l->base);
	nudge_buf_free(&l->tmp);
	nudge_buf_free(&l->url);
	free(l);
}

int
nudge_links_https(const nudge_links *l)
{
	return strncmp(l->base, "https://", 8) == 0;
}

/* Links longer than this stay as written: a token must open again
 * (token.c reads at most 8 KiB of base64). */
#define MAXLINK 4096

static int
make(const nudge_links *l, const nudge_links_msg *m, char kind,
    const char *link, size_t len, nudge_buf *out, nudge_err *err)
{
	if (len > MAXLINK)
		return nudge_errf(err, EX_DATAERR, "a link over %d bytes",
		    MAXLINK);
	return nudge_track_url(out, l->base, l->secret, l->keylen, kind,
	    m->campaign_id, m->step != NULL ? m->step : "", m->contact_id,
	    link, len, m->now, err);
}

int
nudge_links_unsub(const nudge_links *l, const nudge_links_msg *m,
    nudge_buf *url, nudge_err *err)
{
	nudge_buf_reset(url);
	return make(l, m, 'u', NULL, 0, url, err);
}

int
nudge_links_confirm(const nudge_links *l, const nudge_links_msg *m,
    nudge_buf *url, nudge_err *err)
{
	nudge_buf_reset(url);
	return make(l, m, 's', NULL, 0, url, err);
}

int
nudge_links_code(const nudge_links *l, const nudge_links_msg *m,
    char code[7], nudge_err *err)
{
	const char *h = m->step != NULL ? strchr(m->step, '#') : NULL;
	long long ev = h != NULL ? strtoll(h + 1, NULL, 10) : 0;

	code[0] = '\0';
	if (ev > 0 && nudge_token_code(l->secret, l->keylen, m->contact_id,
	    (int64_t)ev, code) != 0)
		return nudge_errf(err, EX_SOFTWARE, "confirmation code: "
		    "HMAC failed");
	return 0;
}

int
nudge_links_prefs(const nudge_links *l, const char *unsub, nudge_buf *url,
    nudge_err *err)
{
	size_t bl = strlen(l->base);

	nudge_buf_reset(url);
	if (strlen(unsub) < bl + 3 || nudge_buf_add(url, l->base, bl) == -1 ||
	    nudge_buf_puts(url, "/s/prefs/") == -1 ||
	    nudge_buf_puts(url, unsub + bl + 3) == -1)
		return nudge_errf(err, EX_OSERR, "out of memory");
	return 0;
}

/* True when s[0..n) is an http(s) URL that is not ours already. */
static int
trackable(const nudge_links *l, const char *s, size_t n)
{
	size_t bl = strlen(l->base);

	if (!((n > 7 && strncasecmp(s, "http://", 7) == 0) ||
	    (n > 8 && strncasecmp(s, "https://", 8) == 0)))
		return 0;
	return !(n >= bl && strncmp(s, l->base, bl) == 0 &&
	    (n == bl || s[bl] == '/'));
}

/* Decodes the character references an attribute value may hold
 * (&amp; &quot; &#39; &#NN; &#xHH; &lt; &gt;) into out; others stay. */
static int
unescape(nudge_buf *out, const char *s, size_t n)
{
	static const struct { const char *e; char c; } named[] = {
		{ "&amp;", '&' }, { "&quot;", '"' }, { "&apos;", '\'' },
		{ "&lt;", '<' }, { "&gt;", '>' },
	};
	size_t i, k;

	nudge_buf_reset(out);
	for (i = 0; i < n; i++) {
		if (s[i] == '&') {
			for (k = 0; k < sizeof named / sizeof named[0]; k++) {
				size_t el = strlen(named[k].e);

				if (n - i >= el && strncasecmp(s + i,
				    named[k].e, el) == 0)
					break;
			}
			if (k < sizeof named / sizeof named[0]) {
				if (nudge_buf_putc(out, named[k].c) == -1)
					return -1;
				i += strlen(named[k].e) - 1;
				continue;
			}
			if (i + 2 < n && s[i + 1] == '#') {
				size_t j = i + 2;
				int hex = s[j] == 'x' || s[j] == 'X';
				long v = 0;

				if (hex)
					j++;
				for (; j < n && j < i + 10; j++) {
					int c = s[j], d = hex ? nudge_hexval(c) :
					    c >= '0' && c <= '9' ? c - '0' : -1;

					if (d < 0)
						break;
					v = v * (hex ? 16 : 10) + d;
				}
				if (j < n && s[j] == ';' && v > 0x20 &&
				    v < 0x7f) {
					if (nudge_buf_putc(out, (char)v) == -1)
						return -1;
					i = j;
					continue;
				}
			}
		}
		if (nudge_buf_putc(out, s[i]) == -1)
			return -1;
	}
	if (out->s == NULL)
		return nudge_buf_add(out, "", 0);
	return 0;
}

/* Finds attribute name in the tag t[0..n) ("<a ...>"); sets the value's
 * span (quotes excluded) and the attribute's whole span. */
static int
find_attr(const char *t, size_t n, const char *name, size_t *vs, size_t *ve,
    size_t *as, size_t *ae)
{
	size_t i = 1, nl = strlen(name);

	while (i < n && t[i] != ' ' && t[i] != '\t' && t[i] != '\n' &&
	    t[i] != '\r' && t[i] != '>')
		i++;
	while (i < n) {
		size_t ks, ke;

		while (i < n && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' ||
		    t[i] == '\r' || t[i] == '/'))
			i++;
		if (i >= n || t[i] == '>')
			return 0;
		ks = i;
		while (i < n && t[i] != '=' && t[i] != ' ' && t[i] != '>' &&
		    t[i] != '\t' && t[i] != '\n' && t[i] != '\r')
			i++;
		ke = i;
		*vs = *ve = i;
		while (i < n && (t[i] == ' ' || t[i] == '\t'))
			i++;
		if (i < n && t[i] == '=') {
			i++;
			while (i < n && (t[i] == ' ' || t[i] == '\t'))
				i++;
			if (i < n && (t[i] == '"' || t[i] == '\'')) {
				char q = t[i];
				const char *e = memchr(t + i + 1, q,
				    n - i - 1);

				if (e == NULL)
					return 0;
				*vs = i + 1;
				*ve = (size_t)(e - t);
				i = *ve + 1;
			} else {
				*vs = i;
				while (i < n && t[i] != ' ' && t[i] != '>' &&
				    t[i] != '\t' && t[i] != '\n')
					i++;
				*ve = i;
			}
		} else {
			i = ke;
		}
		if (ke - ks == nl && strncasecmp(t + ks, name, nl) == 0) {
			*as = ks;
			*ae = i;
			return 1;
		}
	}
	return 0;
}

static int
rewrite_html(nudge_links *l, const nudge_links_msg *m, const nudge_buf *in,
    nudge_buf *out, nudge_err *err)
{
	const char *s = in->s, *end = in->s + in->len, *p = s, *body = NULL;
	int rc;

	nudge_buf_reset(out);
	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p)), *gt;
		size_t vs, ve, as, ae, ns, ne, tl;
		int notrack;

		if (lt == NULL)
			break;
		if (end - lt >= 4 && memcmp(lt, "<!--", 4) == 0) {
			const char *c = memmem(lt, (size_t)(end - lt),
			    "-->", 3);

			gt = c != NULL ? c + 2 : end - 1;
			if (nudge_buf_add(out, p, (size_t)(gt + 1 - p)) == -1)
				goto nomem;
			p = gt + 1;
			continue;
		}
		if ((gt = memchr(lt, '>', (size_t)(end - lt))) == NULL)
			break;
		tl = (size_t)(gt + 1 - lt);
		if (tl >= 7 && strncasecmp(lt, "</body", 6) == 0)
			body = lt;
		if (!(tl > 3 && (lt[1] == 'a' || lt[1] == 'A') &&
		    (lt[2] == ' ' || lt[2] == '\t' || lt[2] == '\n' ||
		    lt[2] == '\r')) ||
		    !find_attr(lt, tl, "href", &vs, &ve, &as, &ae)) {
			if (nudge_buf_add(out, p, (size_t)(gt + 1 - p)) == -1)
				goto nomem;
			p = gt + 1;
			continue;
		}
		notrack = find_attr(lt, tl, "data-nudge-notrack", &ns, &ne,
		    &as, &ae);
		if (unescape(&l->tmp, lt + vs, ve - vs) == -1)
			goto nomem;
		if (nudge_buf_add(out, p, (size_t)(lt - p)) == -1)
			goto nomem;
		if (notrack || !trackable(l, l->tmp.s, l->tmp.len)) {
			/* the tag as it was, less data-nudge-notrack */
			if (!notrack) {
				if (nudge_buf_add(out, lt, tl) == -1)
					goto nomem;
			} else {
				while (as > 0 && (lt[as - 1] == ' ' ||
				    lt[as - 1] == '\t'))
					as--;
				if (nudge_buf_add(out, lt, as) == -1 ||
				    nudge_buf_add(out, lt + ae, tl - ae) == -1)
					goto nomem;
			}
		} else {
			nudge_buf_reset(&l->url);
			if ((rc = make(l, m, 'c', l->tmp.s, l->tmp.len, &l->url,
			    err)) == EX_DATAERR) {
				/* a URL with a space: left as it was */
				if (nudge_buf_add(out, lt, tl) == -1)
					goto nomem;
			} else if (rc != 0) {
				return rc;
			} else if (nudge_buf_add(out, lt, vs) == -1 ||
			    nudge_buf_add(out, l->url.s, l->url.len) == -1 ||
			    nudge_buf_add(out, lt + ve, tl - ve) == -1)
				goto nomem;
		}
		p = gt + 1;
	}
	if (nudge_buf_add(out, p, (size_t)(end - p)) == -1)
		goto nomem;
	/* the pixel, before the last </body> */
	nudge_buf_reset(&l->url);
	if ((rc = make(l, m, 'o', NULL, 0, &l->url, err)) != 0)
		return rc;
	{
		size_t at = out->len, tail;
		const char *img1 = "<img src=\"", *img2 = "\" width=\"1\" "
		    "height=\"1\" alt=\"\" style=\"border:0;width:1px;"
		    "height:1px\">";

		if (body != NULL) {
			/* the last </body> of the rewritten text */
			const char *b = NULL, *q = out->s;

			while ((q = memmem(q, out->len - (size_t)(q - out->s),
			    "</", 2)) != NULL) {
				if (strncasecmp(q, "</body", 6) == 0)
					b = q;
				q += 2;
			}
			if (b != NULL)
				at = (size_t)(b - out->s);
		}
		tail = out->len - at;
		nudge_buf_reset(&l->tmp);
		if (nudge_buf_add(&l->tmp, out->s + at, tail) == -1)
			goto nomem;
		out->len = at;
		if (nudge_buf_puts(out, img1) == -1 ||
		    nudge_buf_add(out, l->url.s, l->url.len) == -1 ||
		    nudge_buf_puts(out, img2) == -1 ||
		    nudge_buf_add(out, l->tmp.s, l->tmp.len) == -1)
			goto nomem;
	}
	return 0;
nomem:
	return nudge_errf(err, EX_OSERR, "out of memory");
}

int
nudge_links_text(const nudge_links *l, const nudge_links_msg *m,
    const char *s, size_t n, nudge_buf *out, nudge_err *err)
{
	const char *end = s + n, *p = s, *q = s;
	nudge_buf url = { 0 };
	int rc = 0;

	nudge_buf_reset(out);
	while (q < end) {
		const char *e;

		if (!((end - q > 7 && strncasecmp(q, "http://", 7) == 0) ||
		    (end - q > 8 && strncasecmp(q, "https://", 8) == 0)) ||
		    (q > s && (((unsigned char)q[-1] >= 'a' &&
		    (unsigned char)q[-1] <= 'z') || (q[-1] >= 'A' &&
		    q[-1] <= 'Z')))) {
			q++;
			continue;
		}
		for (e = q; e < end && (unsigned char)*e > 0x20 &&
		    *e != 0x7f && !strchr("<>\"'", *e); e++)
			;
		while (e > q && strchr(".,;:!?)", e[-1]) != NULL)
			e--;
		if (!trackable(l, q, (size_t)(e - q))) {
			q = e > q ? e : q + 1;
			continue;
		}
		nudge_buf_reset(&url);
		if ((rc = make(l, m, 'c', q, (size_t)(e - q), &url, err)) ==
		    EX_DATAERR) {
			/* too long to seal: left as written */
			rc = 0;
			q = e;
			continue;
		}
		if (rc != 0)
			goto out;
		if (nudge_buf_add(out, p, (size_t)(q - p)) == -1 ||
		    nudge_buf_add(out, url.s, url.len) == -1) {
			rc = nudge_errf(err, EX_OSERR, "out of memory");
			goto out;
		}
		p = q = e;
	}
	if (nudge_buf_add(out, p, (size_t)(end - p)) == -1 ||
	    (out->s == NULL && nudge_buf_add(out, "", 0) == -1))
		rc = nudge_errf(err, EX_OSERR, "out of memory");
out:
	nudge_buf_free(&url);
	return rc;
}

int
nudge_links_rewrite(nudge_links *l, const nudge_links_msg *m,
    nudge_tpl_out *out, nudge_err *err)
{
	nudge_buf *html = &out->part[NUDGE_TPL_HTML];
	nudge_buf *text = &out->part[NUDGE_TPL_TEXT];
	nudge_buf tmp;
	int rc;

	/* scratch is free between renders: the rewritten part is built
	 * there and the buffers swapped */
	if (html->len > 0) {
		if ((rc = rewrite_html(l, m, html, &out->scratch, err)) != 0)
			return rc;
		tmp = *html;
		*html = out->scratch;
		out->scratch = tmp;
	}
	if (text->len > 0) {
		if ((rc = nudge_links_text(l, m, text->s, text->len,
		    &out->scratch, err)) != 0)
			return rc;
		tmp = *text;
		*text = out->scratch;
		out->scratch = tmp;
	}
	return 0;
}
