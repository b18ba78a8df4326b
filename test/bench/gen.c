/* gen: deterministic CSV data (contacts, events) for nudge's benchmarks. */
/*
 * gen contacts N [--seed S] [--bom] [--crlf]
 * gen events NCONTACTS NEVENTS [--seed S]
 * gen campaigns
 *
 * Everything about contact k (name, address, phone, lists, whether its
 * row comes out dirty, its engagement) is a pure function of (seed, k), so
 * `gen events` names exactly the addresses `gen contacts` wrote without
 * reading them, and knows which of them a store cannot hold.  Same
 * arguments, same bytes.  Counts go to stderr.  No library beyond libc:
 * the logarithm below is our own, so the Makefile needs no -lm.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY	86400
#define END	1793491200		/* 2026-11-01T00:00:00Z */
#define SPAN	(180 * DAY)
#define START	(END - SPAN)		/* 2026-05-05, a Tuesday */
#define DEFAULT_SEED 20261101u
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *prog = "gen";

/* --- output: one big buffer, written with fwrite ---------------------- */

static char obuf[1 << 16];
static size_t olen;

static void
oflush(void)
{
	if (olen > 0 && fwrite(obuf, 1, olen, stdout) != olen) {
		perror(prog);
		exit(74);
	}
	olen = 0;
}

static void
oput(const char *s, size_t n)
{
	if (olen + n > sizeof obuf)
		oflush();
	if (n > sizeof obuf) {
		fwrite(s, 1, n, stdout);
		return;
	}
	memcpy(obuf + olen, s, n);
	olen += n;
}

static void
ostr(const char *s)
{
	oput(s, strlen(s));
}

static void
ochar(char c)
{
	if (olen == sizeof obuf)
		oflush();
	obuf[olen++] = c;
}

/* A CSV field, quoted (RFC 4180) when it holds a comma, quote or line end. */
static void
ofield(const char *s)
{
	const char *p;

	if (strpbrk(s, ",\"\r\n") == NULL) {
		ostr(s);
		return;
	}
	ochar('"');
	for (p = s; *p != '\0'; p++) {
		if (*p == '"')
			ochar('"');
		ochar(*p);
	}
	ochar('"');
}

/* --- randomness: splitmix64, one stream per row or campaign ----------- */

typedef struct { uint64_t s; } rng;

static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15u;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
	return x ^ (x >> 31);
}

static uint64_t
next(rng *r)
{
	return mix(r->s += 0x9e3779b97f4a7c15u);
}

/* A stream that depends only on (seed, what, k). */
static rng
stream(uint64_t seed, uint64_t what, uint64_t k)
{
	rng r = { mix(mix(seed ^ (what << 56)) ^ k) };

	return r;
}

/* Uniform in [0, 1). */
static double
unif(rng *r)
{
	return (double)(next(r) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n); the modulo bias is below 2^-32 here. */
static uint64_t
below(rng *r, uint64_t n)
{
	return n == 0 ? 0 : next(r) % n;
}

/* Natural logarithm of x > 0 to ~1e-7, without libm. */
static double
xlog(double x)
{
	uint64_t b;
	double m, s, s2;
	int e;

	memcpy(&b, &x, sizeof b);
	e = (int)((b >> 52) & 0x7ff) - 1023;
	b = (b & 0x000fffffffffffffu) | 0x3ff0000000000000u;
	memcpy(&m, &b, sizeof m);		/* x = m * 2^e, 1 <= m < 2 */
	if (m > 1.4142135623730951) {
		m /= 2;
		e++;
	}
	s = (m - 1) / (m + 1);
	s2 = s * s;
	return e * 0.6931471805599453 + 2 * s * (1 + s2 * (1.0 / 3 +
	    s2 * (1.0 / 5 + s2 * (1.0 / 7 + s2 * (1.0 / 9 + s2 / 11)))));
}

/* Exponentially distributed with the given mean. */
static double
expo(rng *r, double mean)
{
	return -mean * xlog(1.0 - unif(r));
}

/* --- who contact k is ------------------------------------------------- */

typedef struct { const char *as_written, *ascii; } name;

/* Name groups: share in percent, first names, last names. */
static const name he_first[] = {
	{"נועה", "noa"}, {"אביגיל", "avigail"}, {"יהונתן", "yonatan"},
	{"דוד", "david"}, {"מאיה", "maya"}, {"אריאל", "ariel"},
	{"רונית", "ronit"}, {"עידו", "ido"}, {"הדס", "hadas"},
	{"גלעד", "gilad"}, {"ליאת", "liat"}, {"אלון", "alon"},
	{"שני", "shani"}, {"יוסף", "yosef"}, {"מירב", "merav"},
};
static const name he_last[] = {
	{"כהן", "cohen"}, {"לוי", "levi"}, {"מזרחי", "mizrahi"},
	{"שפירא", "shapira"}, {"אוחיון", "ohayon"}, {"גולן", "golan"},
	{"בן חיים", "benhaim"}, {"וקנין", "vaknin"}, {"שטרן", "stern"},
	{"אלמוג", "almog"}, {"ברק", "barak"}, {"חדד", "hadad"},
};
static const name il_first[] = {
	{"Noa", "noa"}, {"Yonatan", "yonatan"}, {"Maya", "maya"},
	{"Ariel", "ariel"}, {"Ido", "ido"}, {"Hadas", "hadas"},
	{"Gilad", "gilad"}, {"Liat", "liat"}, {"Alon", "alon"},
	{"Shani", "shani"}, {"Tal", "tal"}, {"Eyal", "eyal"},
};
static const name il_last[] = {
	{"Cohen", "cohen"}, {"Levi", "levi"}, {"Mizrahi", "mizrahi"},
	{"Shapira", "shapira"}, {"Ohayon", "ohayon"}, {"Golan", "golan"},
	{"Ben-Haim", "benhaim"}, {"Vaknin", "vaknin"}, {"Stern", "stern"},
	{"Bar-On", "baron"},
};
static const name en_first[] = {
	{"Emily", "emily"}, {"Jacob", "jacob"}, {"Hannah", "hannah"},
	{"Ethan", "ethan"}, {"Grace", "grace"}, {"Noah", "noah"},
	{"Lily", "lily"}, {"Lucas", "lucas"}, {"Ava", "ava"},
	{"Oliver", "oliver"}, {"Mia", "mia"}, {"Henry", "henry"},
};
static const name en_last[] = {
	{"Walker", "walker"}, {"Harris", "harris"}, {"Clark", "clark"},
	{"Lewis", "lewis"}, {"Young", "young"}, {"Allen", "allen"},
	{"O'Connor", "oconnor"}, {"MacLeod", "macleod"}, {"Wright", "wright"},
};
static const name eu_first[] = {
	{"Inès", "ines"}, {"Bjørn", "bjorn"}, {"Małgorzata", "malgorzata"},
	{"Jérôme", "jerome"}, {"Zoë", "zoe"}, {"Håkon", "hakon"},
	{"Renée", "renee"}, {"Ørjan", "orjan"},
};
static const name eu_last[] = {
	{"Schäfer", "schaefer"}, {"Fernández", "fernandez"},
	{"Kowalczyk", "kowalczyk"}, {"Lefèvre", "lefevre"},
	{"Nørgaard", "norgaard"}, {"Ibáñez", "ibanez"}, {"Dvořák", "dvorak"},
};
static const name ru_first[] = {
	{"Наталья", "natalia"}, {"Алексей", "alexey"}, {"Елена", "elena"},
	{"Игорь", "igor"}, {"Татьяна", "tatiana"},
};
static const name ru_last[] = {
	{"Соколов", "sokolov"}, {"Попова", "popova"}, {"Волков", "volkov"},
	{"Морозова", "morozova"}, {"Лебедев", "lebedev"},
};
static const name ar_first[] = {
	{"يوسف", "yousef"}, {"مريم", "mariam"}, {"علي", "ali"},
	{"نور", "nour"}, {"خالد", "khaled"},
};
static const name ar_last[] = {
	{"عيسى", "issa"}, {"ناصر", "nasser"}, {"سليمان", "suleiman"},
	{"عباس", "abbas"},
};

static const struct group {
	unsigned share;
	const name *first, *last;
	size_t nfirst, nlast;
} groups[] = {
	{22, he_first, he_last, NELEM(he_first), NELEM(he_last)},
	{25, il_first, il_last, NELEM(il_first), NELEM(il_last)},
	{28, en_first, en_last, NELEM(en_first), NELEM(en_last)},
	{12, eu_first, eu_last, NELEM(eu_first), NELEM(eu_last)},
	{8, ru_first, ru_last, NELEM(ru_first), NELEM(ru_last)},
	{5, ar_first, ar_last, NELEM(ar_first), NELEM(ar_last)},
};

/* Weighted by repetition. */
static const char *const domains[] = {
	"gmail.com", "gmail.com", "gmail.com", "gmail.com", "gmail.com",
	"gmail.com", "gmail.com", "gmail.com", "gmail.com", "gmail.com",
	"walla.co.il", "walla.co.il", "walla.co.il", "yahoo.com",
	"yahoo.com", "hotmail.com", "hotmail.com", "outlook.com",
	"outlook.com", "icloud.com", "netvision.net.il", "bezeqint.net",
	"012.net.il", "shop-example.co.il", "proton.me", "web.de",
	"yandex.ru", "example.org",
};

static const char *const cities[] = {
	"Tel Aviv-Yafo", "Tel Aviv-Yafo", "Tel Aviv-Yafo", "Tel Aviv-Yafo",
	"Tel Aviv-Yafo", "Jerusalem", "Jerusalem", "Jerusalem", "ירושלים",
	"ירושלים", "Haifa", "Haifa", "חיפה", "Rishon LeZion", "באר שבע",
	"Ra'anana", "Herzliya", "Petah Tikva", "נתניה", "Modi'in", "Eilat",
	"New York", "London", "Berlin", "Montréal", "Washington, D.C.", "",
};

/* Lists and the chance a contact is on each. */
static const struct { const char *name; double p; } lists[] = {
	{"newsletter", 0.60}, {"customers", 0.30}, {"leads", 0.25},
	{"webinar-2026", 0.10}, {"b2b", 0.08}, {"לקוחות-חדשים", 0.05},
	{"vip", 0.04},
};

typedef struct person {
	const char *first, *last;
	char email[96];
} person;

/* Contact k's name and address.  The address is ASCII and holds k, so it
 * is unique; it depends on k only, not on the seed. */
static void
person_of(uint64_t k, person *p)
{
	uint64_t h = mix(k ^ 0x6e75646765u);	/* "nudge" */
	unsigned slot = (unsigned)(h % 100);
	const struct group *g = groups;
	const name *f, *l;
	const char *dom;

	while (slot >= g->share) {
		slot -= g->share;
		g++;
	}
	f = &g->first[(h >> 8) % g->nfirst];
	l = &g->last[(h >> 16) % g->nlast];
	dom = domains[(h >> 24) % NELEM(domains)];
	p->first = f->as_written;
	p->last = l->as_written;
	switch ((h >> 32) % 5) {
	case 0:
		snprintf(p->email, sizeof p->email, "%s.%s%" PRIu64 "@%s",
		    f->ascii, l->ascii, k, dom);
		break;
	case 1:
		snprintf(p->email, sizeof p->email, "%s%" PRIu64 "@%s",
		    f->ascii, k, dom);
		break;
	case 2:
		snprintf(p->email, sizeof p->email, "%c%s%" PRIu64 "@%s",
		    f->ascii[0], l->ascii, k, dom);
		break;
	case 3:
		snprintf(p->email, sizeof p->email, "%s_%s.%" PRIu64 "@%s",
		    f->ascii, l->ascii, k, dom);
		break;
	default:
		snprintf(p->email, sizeof p->email, "%s.%s+%" PRIu64 "@%s",
		    l->ascii, f->ascii, k, dom);
		break;
	}
}

enum dirt {
	CLEAN = -1, BAD_EMAIL, DUP_CASE, SPACES_CASE, COMMA_NAME, QUOTE_NAME,
	NEWLINE_CITY, BAD_DATE, BAD_PHONE, RAGGED, MESSY_LISTS, NDIRT
};
static const char *const dirt_names[NDIRT] = {
	"bad_email", "dup_case", "spaces_case", "comma_name", "quote_name",
	"newline_city", "bad_date", "bad_phone", "ragged", "messy_lists",
};

/* Whether contact k's row comes out dirty (1%), and how. */
static int
dirt_of(uint64_t seed, uint64_t k)
{
	uint64_t h = mix(mix(seed ^ 0xd1e7u) ^ k);
	int kind;

	if (h % 10000 >= 100)
		return CLEAN;
	kind = (int)((h >> 32) % NDIRT);
	if (kind == DUP_CASE && k == 0)
		kind = SPACES_CASE;
	return kind;
}

/* True when no store can know contact k by its address: its row has a
 * broken address or carries another contact's. */
static int
unknown(uint64_t seed, uint64_t k)
{
	int d = dirt_of(seed, k);

	return d == BAD_EMAIL || d == DUP_CASE;
}

/* Open-rate multiplier: 20% keen (2), 40% normal (1), 40% dormant (1/4). */
static double
engagement(uint64_t seed, uint64_t k)
{
	uint64_t t = mix(mix(seed ^ 0xe4u) ^ k) % 10;

	return t < 2 ? 2.0 : t < 6 ? 1.0 : 0.25;
}

/* --- dates ------------------------------------------------------------ */

/* Days since 1970-01-01 to y, m, d (proleptic Gregorian). */
static void
civil(int64_t z, int *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static void
ymd(int64_t t, char out[11])
{
	int y, m, d;

	civil(t / DAY, &y, &m, &d);
	out[0] = (char)('0' + y / 1000 % 10);
	out[1] = (char)('0' + y / 100 % 10);
	out[2] = (char)('0' + y / 10 % 10);
	out[3] = (char)('0' + y % 10);
	out[4] = '-';
	out[5] = (char)('0' + m / 10);
	out[6] = (char)('0' + m % 10);
	out[7] = '-';
	out[8] = (char)('0' + d / 10);
	out[9] = (char)('0' + d % 10);
	out[10] = '\0';
}

/* ISO 8601 UTC: 2026-10-31T09:00:00Z. */
static void
oiso(int64_t t)
{
	static int64_t cday = -1;
	static char cs[12];
	char b[10];
	int r;

	if (t / DAY != cday) {
		cday = t / DAY;
		ymd(t, cs);
		cs[10] = 'T';
	}
	oput(cs, 11);
	r = (int)(t % DAY);
	b[0] = (char)('0' + r / 36000);
	b[1] = (char)('0' + r / 3600 % 10);
	b[2] = ':';
	b[3] = (char)('0' + r / 600 % 6);
	b[4] = (char)('0' + r / 60 % 10);
	b[5] = ':';
	b[6] = (char)('0' + r % 60 / 10);
	b[7] = (char)('0' + r % 10);
	b[8] = 'Z';
	oput(b, 9);
}

/* --- contacts --------------------------------------------------------- */

/* A mobile number as people type it, or "" (20%).  Numbers are a
 * bijection of k (within 10^8 Israeli, 8*10^6 US numbers), so two clean
 * rows never share one. */
static void
phone_of(rng *r, uint64_t k, char *out, size_t n)
{
	uint64_t v;

	if (unif(r) < 0.2) {
		out[0] = '\0';
	} else if (unif(r) < 0.8) {
		unsigned pre, a, b, c;

		v = (k * 2654435761u + 12345678) % 100000000;	/* 5X-XXXXXXX */
		pre = (unsigned)(v / 10000000);
		a = (unsigned)(v % 10000000);
		b = a / 10000;
		c = a % 10000;
		switch (below(r, 4)) {
		case 0:
			snprintf(out, n, "05%u%07u", pre, a);
			break;
		case 1:
			snprintf(out, n, "05%u-%07u", pre, a);
			break;
		case 2:
			snprintf(out, n, "+9725%u%07u", pre, a);
			break;
		default:
			snprintf(out, n, "+972 5%u-%03u-%04u", pre, b, c);
			break;
		}
	} else {
		unsigned area, line;

		v = (k * 2654435761u + 4321) % 8000000;
		area = 200 + (unsigned)(v / 10000);
		line = (unsigned)(v % 10000);
		if (unif(r) < 0.5)
			snprintf(out, n, "+1 (%u) 555-%04u", area, line);
		else
			snprintf(out, n, "+1%u555%04u", area, line);
	}
}

static const char *const bad_emails[] = {
	"%s.at.%s", "%s@", "@%s", "%s@@%s", "%s %s@%s", "%s@%s.",
	"%s@localhost", "<%s@%s>", "%s@%s,com", "", "%s@%s;%s2@%s", "n/a",
	"נועה@%s",
};

static void
bad_email(rng *r, const char *email, char *out, size_t n)
{
	char local[96];
	const char *dom, *at = strchr(email, '@');
	size_t ll = (size_t)(at - email);

	memcpy(local, email, ll);
	local[ll] = '\0';
	dom = at + 1;
	switch (below(r, NELEM(bad_emails))) {
	case 0: snprintf(out, n, "%s.at.%s", local, dom); break;
	case 1: snprintf(out, n, "%s@", local); break;
	case 2: snprintf(out, n, "@%s", dom); break;
	case 3: snprintf(out, n, "%s@@%s", local, dom); break;
	case 4: snprintf(out, n, "%s %s@%s", local, local, dom); break;
	case 5: snprintf(out, n, "%s@%s.", local, dom); break;
	case 6: snprintf(out, n, "%s@localhost", local); break;
	case 7: snprintf(out, n, "<%s@%s>", local, dom); break;
	case 8: snprintf(out, n, "%s@%.*s,com", local,
	    (int)(strrchr(dom, '.') - dom), dom); break;
	case 9: out[0] = '\0'; break;
	case 10: snprintf(out, n, "%s@%s;%s2@%s", local, dom, local, dom);
		break;
	case 11: snprintf(out, n, "n/a"); break;
	default: snprintf(out, n, "נועה@%s", dom); break;
	}
}

static int
contacts(uint64_t n, uint64_t seed, int bom, int crlf)
{
	static const char *const bad_dates[] = {"03/15/2024", "2024-13-01",
	    "yesterday", "2024-02-30", "15.03.2024", "0000-00-00"};
	static const char *const bad_phones[] = {"052", "n/a", "+972-5x-123",
	    "call me", "1234", "+44"};
	const char *eol = crlf ? "\r\n" : "\n";
	uint64_t counts[NDIRT] = {0}, k, dirty = 0;
	char email[200], phone[40], first[128], last[128], city[64];
	char date[12], lbuf[256];
	person p;

	if (bom)
		ostr("\xef\xbb\xbf");
	ostr("email,phone,first_name,last_name,city,signup_date,lists");
	ostr(eol);
	for (k = 0; k < n; k++) {
		rng r = stream(seed, 1, k);
		int d = dirt_of(seed, k), nl = 0;
		size_t i, li = 0;
		const char *got[NELEM(lists)];

		person_of(k, &p);
		snprintf(email, sizeof email, "%s", p.email);
		phone_of(&r, k, phone, sizeof phone);
		snprintf(first, sizeof first, "%s", p.first);
		snprintf(last, sizeof last, "%s", p.last);
		snprintf(city, sizeof city, "%s",
		    cities[below(&r, NELEM(cities))]);
		ymd(END - (int64_t)below(&r, 5 * 365 * DAY), date);
		for (i = 0; i < NELEM(lists); i++)
			if (unif(&r) < lists[i].p)
				got[nl++] = lists[i].name;
		for (i = (size_t)nl; i > 1; i--) {	/* shuffle */
			size_t j = (size_t)below(&r, i);
			const char *t = got[i - 1];

			got[i - 1] = got[j];
			got[j] = t;
		}
		lbuf[0] = '\0';
		for (i = 0; i < (size_t)nl; i++)
			li += (size_t)snprintf(lbuf + li, sizeof lbuf - li,
			    "%s%s", i ? ";" : "", got[i]);
		if (d != CLEAN) {
			counts[d]++;
			dirty++;
		}
		switch (d) {
		case BAD_EMAIL:
			bad_email(&r, p.email, email, sizeof email);
			break;
		case DUP_CASE: {	/* an earlier contact, new details */
			person q;
			char *c;

			person_of(below(&r, k), &q);
			for (c = q.email; *c != '\0'; c++)
				if (*c >= 'a' && *c <= 'z' && unif(&r) < 0.4)
					*c = (char)(*c - 'a' + 'A');
			snprintf(email, sizeof email, "%s", q.email);
			break;
		}
		case SPACES_CASE: {
			char *c, *at = strchr(p.email, '@');

			for (c = at; *c != '\0'; c++)
				if (*c >= 'a' && *c <= 'z')
					*c = (char)(*c - 'a' + 'A');
			if (p.email[0] >= 'a' && p.email[0] <= 'z')
				p.email[0] = (char)(p.email[0] - 'a' + 'A');
			snprintf(email, sizeof email, "  %s ", p.email);
			break;
		}
		case COMMA_NAME:
			snprintf(last, sizeof last, "%s, Jr.", p.last);
			break;
		case QUOTE_NAME:
			snprintf(first, sizeof first, "%s \"%s\"", p.first,
			    p.last);
			break;
		case NEWLINE_CITY:
			snprintf(city, sizeof city, "Tel Aviv\nYafo");
			break;
		case BAD_DATE:
			snprintf(date, sizeof date, "%s",
			    bad_dates[below(&r, NELEM(bad_dates))]);
			break;
		case BAD_PHONE:
			snprintf(phone, sizeof phone, "%s",
			    bad_phones[below(&r, NELEM(bad_phones))]);
			break;
		case MESSY_LISTS:
			snprintf(lbuf, sizeof lbuf,
			    " newsletter ;newsletter;;VIP;");
			break;
		default:
			break;
		}
		ofield(email);
		ochar(',');
		ofield(phone);
		ochar(',');
		ofield(first);
		ochar(',');
		ofield(last);
		ochar(',');
		ofield(city);
		if (d == RAGGED && (k & 1)) {	/* 5 fields */
			ostr(eol);
			continue;
		}
		ochar(',');
		ofield(date);
		ochar(',');
		ofield(lbuf);
		if (d == RAGGED)		/* 8 fields */
			ostr(",extra");
		ostr(eol);
	}
	oflush();
	fprintf(stderr, "%s: contacts: %" PRIu64 " rows, %" PRIu64 " dirty:",
	    prog, n, dirty);
	for (int i = 0; i < NDIRT; i++)
		fprintf(stderr, " %s=%" PRIu64, dirt_names[i], counts[i]);
	fputc('\n', stderr);
	return 0;
}

/* --- campaigns -------------------------------------------------------- */

enum chan { EMAIL, PUSH, SMS, NCHAN };
static const char *const chan_names[NCHAN] = {"email", "push", "sms"};
/* Per channel: hour sent, relative audience, open rate, click rate (of
 * opens, or of sends where there are no opens), bounce rate. */
static const struct plan {
	int hour;
	double audience, open, click, bounce;
} plan[NCHAN] = {
	{9, 1.0, 0.28, 0.20, 0.018},
	{17, 0.5, 0.10, 0.40, 0.010},
	{11, 0.3, 0.00, 0.06, 0.030},
};
static const char *const themes[] = {
	"spring-sale", "new-arrivals", "weekly-digest", "vip-preview",
	"back-in-stock", "holiday-deals", "webinar-invite", "flash-sale",
	"loyalty-points", "cart-reminder", "summer-clearance",
};

typedef struct campaign {
	int64_t t;
	int day;
	enum chan ch;
	char name[64];
} campaign;

/* The calendar: email Tue and Thu, push Mon/Wed/Fri, SMS every other
 * Sunday, over the 180 days before END.  Returns how many. */
static size_t
calendar(campaign *c, size_t max)
{
	size_t n = 0;

	for (int d = 0; d < SPAN / DAY; d++) {
		int64_t t = START + (int64_t)d * DAY;
		int wday = (int)((t / DAY + 4) % 7);	/* 0 = Sunday */
		char date[12];

		ymd(t, date);
		for (int ch = 0; ch < NCHAN; ch++) {
			int on = ch == EMAIL ? wday == 2 || wday == 4
			    : ch == PUSH ? wday == 1 || wday == 3 || wday == 5
			    : wday == 0 && (d / 7) % 2 == 0;

			if (!on || n == max)
				continue;
			c[n].t = t + plan[ch].hour * 3600;
			c[n].day = d;
			c[n].ch = (enum chan)ch;
			snprintf(c[n].name, sizeof c[n].name, "%s-%s-%s", date,
			    chan_names[ch],
			    themes[(size_t)(d * 7 + ch) % NELEM(themes)]);
			n++;
		}
	}
	return n;
}

static int
list_campaigns(void)
{
	campaign c[200];
	size_t n = calendar(c, NELEM(c));

	ostr("campaign,channel,at\n");
	for (size_t i = 0; i < n; i++) {
		ostr(c[i].name);
		ochar(',');
		ostr(chan_names[c[i].ch]);
		ochar(',');
		oiso(c[i].t);
		ochar('\n');
	}
	oflush();
	return 0;
}

/* --- events ----------------------------------------------------------- */

enum etype {
	SENT, OPENED, CLICKED, PURCHASE, BOUNCED, UNSUBSCRIBED, AD_VIEW,
	SALES_CALL, NTYPE
};
static const char *const type_names[NTYPE] = {
	"sent", "opened", "clicked", "purchase", "bounced", "unsubscribed",
	"ad_view", "sales_call",
};

typedef struct evgen {
	uint64_t seed, nc, limit, written, dirty, unknown;
	uint64_t counts[NTYPE];
	int emit;		/* 0: only count (the first pass) */
} evgen;

static void
event(evgen *g, uint64_t k, enum etype type, const char *channel,
    const char *camp, int64_t at, const char *source)
{
	person p;

	if (at >= END || g->written == g->limit)
		return;
	g->written++;
	if (!g->emit)
		return;
	g->counts[type]++;
	if (dirt_of(g->seed, k) != CLEAN)
		g->dirty++;
	if (unknown(g->seed, k))
		g->unknown++;
	person_of(k, &p);
	ostr(p.email);
	ochar(',');
	ostr(type_names[type]);
	ochar(',');
	ostr(channel);
	ochar(',');
	ostr(camp);
	ochar(',');
	oiso(at);
	ochar(',');
	ostr(source);
	ochar('\n');
}

/* True for 80% of the sends or events that would name a contact whose row
 * came out dirty: thinned so, such events are ~0.2% of all (dirty rows
 * are 1%), as when a store rejected some rows of a file but the events
 * of another system still name them. */
static int
rare(const evgen *g, rng *r, uint64_t k)
{
	return dirt_of(g->seed, k) != CLEAN && unif(r) < 0.8;
}

/* One campaign: a random audience of about size contacts (geometric
 * skips over 0..nc-1, so no contact twice), each send going through the
 * funnel of its channel scaled by the contact's engagement. */
static void
run_campaign(evgen *g, const campaign *c, size_t idx, double size)
{
	const struct plan *pl = &plan[c->ch];
	const char *ch = chan_names[c->ch];
	rng r = stream(g->seed, 2, idx);
	double p = size / (double)g->nc, lq;
	uint64_t k = 0;

	if (p <= 0)
		return;
	lq = p < 1 ? xlog(1 - p) : 0;
	for (;;) {
		if (p < 1)
			k += (uint64_t)(xlog(1.0 - unif(&r)) / lq);
		if (k >= g->nc)
			break;
		if (rare(g, &r, k)) {
			k++;
			continue;
		}
		double eng = engagement(g->seed, k);
		int64_t ts = c->t + (int64_t)(unif(&r) * 7200), to = ts;
		int opened = 0;

		event(g, k, SENT, ch, c->name, ts, "");
		if (unif(&r) < pl->bounce) {
			event(g, k, BOUNCED, ch, c->name,
			    ts + 5 + (int64_t)below(&r, 300), "");
			k++;
			continue;
		}
		if (pl->open > 0 && unif(&r) < pl->open * eng) {
			opened = 1;
			to = ts + (int64_t)expo(&r, 6 * 3600.0);
			event(g, k, OPENED, ch, c->name, to, "");
		}
		if ((opened || pl->open == 0) &&
		    unif(&r) < pl->click * (eng < 1.5 ? eng : 1.5)) {
			int64_t tc = to + 10 + (int64_t)expo(&r, 600.0);

			event(g, k, CLICKED, ch, c->name, tc, "");
			if (unif(&r) < 0.08)
				event(g, k, PURCHASE, "web", c->name,
				    tc + (int64_t)expo(&r, 3600.0), "");
		}
		if (unif(&r) < 0.002 / eng)
			event(g, k, UNSUBSCRIBED, ch, c->name,
			    to + 60 + (int64_t)below(&r, 3600), "");
		k++;
	}
}

/* A contact for an organic event: any (purchases), or from the 5% in
 * the retargeting audience (ad views), or the 4% the sales team calls. */
static uint64_t
pick(evgen *g, rng *r, unsigned pool_per_100)
{
	for (int tries = 0; tries < 1000; tries++) {
		uint64_t k = below(r, g->nc);

		if (rare(g, r, k))
			continue;
		if (pool_per_100 == 100 ||
		    mix(mix(g->seed ^ 0x9001u) ^ k) % 100 < pool_per_100)
			return k;
	}
	return below(r, g->nc);
}

/* Organic events of day d: purchases with no campaign, ad views in
 * bursts (a contact retargeted sees 1-4 ads over a few days), calls. */
static void
organic(evgen *g, int d, uint64_t npurch, uint64_t nads, uint64_t ncalls)
{
	static const char *const sources[] = {"facebook", "facebook",
	    "facebook", "facebook", "facebook", "google", "google", "google",
	    "instagram", "instagram"};
	rng r = stream(g->seed, 3, (uint64_t)d);
	int64_t t0 = START + (int64_t)d * DAY;

	for (uint64_t i = 0; i < npurch; i++)
		event(g, pick(g, &r, 100), PURCHASE,
		    unif(&r) < 0.7 ? "web" : "pos", "",
		    t0 + (int64_t)below(&r, DAY), "");
	while (nads > 0) {
		uint64_t k = pick(g, &r, 5), b = 1;
		const char *src = sources[below(&r, NELEM(sources))];
		int64_t t = t0 + (int64_t)below(&r, DAY);

		while (b < 4 && unif(&r) < 0.55)
			b++;
		for (; b > 0 && nads > 0; b--, nads--) {
			int64_t at = t < END ? t : END - 1 -
			    (int64_t)below(&r, 3600);

			event(g, k, AD_VIEW, "", "", at,
			    unif(&r) < 0.85 ? src :
			    sources[below(&r, NELEM(sources))]);
			t += (int64_t)expo(&r, 18 * 3600.0);
		}
	}
	for (uint64_t i = 0; i < ncalls; i++)
		event(g, pick(g, &r, 4), SALES_CALL, "phone", "",
		    t0 + 6 * 3600 + (int64_t)below(&r, 12 * 3600), "");
}

/* Share of day d in a total spread evenly over the span. */
static uint64_t
dayshare(uint64_t total, int d)
{
	uint64_t days = SPAN / DAY;

	return total * (uint64_t)(d + 1) / days - total * (uint64_t)d / days;
}

static void
all_days(evgen *g, const campaign *c, size_t nc, double per_weight,
    uint64_t purch, uint64_t ads, uint64_t calls)
{
	size_t i = 0;

	for (int d = 0; d < SPAN / DAY; d++) {
		organic(g, d, dayshare(purch, d), dayshare(ads, d),
		    dayshare(calls, d));
		for (; i < nc && c[i].day == d; i++)
			run_campaign(g, &c[i], i,
			    per_weight * plan[c[i].ch].audience);
	}
}

static int
events(uint64_t nc, uint64_t ne, uint64_t seed)
{
	campaign c[200];
	size_t n = calendar(c, NELEM(c));
	double weight = 0, per_weight;
	uint64_t camp, organic_n, ads, calls, purch;
	evgen g;

	if (nc == 0 && ne > 0) {
		fprintf(stderr, "%s: events need at least one contact\n",
		    prog);
		return 64;
	}
	/* About 68.5% of events are sends; the funnels add ~25% to that.
	 * The first pass counts what the campaigns make, so that organic
	 * events (purchases, ad views, calls) fill up to exactly ne. */
	for (size_t i = 0; i < n; i++)
		weight += plan[c[i].ch].audience;
	/* 0.992: rare() drops 0.8% of the audience. */
	per_weight = 0.685 * (double)ne / weight / 0.992;
	memset(&g, 0, sizeof g);
	g.seed = seed;
	g.nc = nc;
	g.limit = UINT64_MAX;
	all_days(&g, c, n, per_weight, 0, 0, 0);
	camp = g.written < ne ? g.written : ne;
	organic_n = ne - camp;
	ads = (uint64_t)(0.015 * (double)ne);
	calls = (uint64_t)(0.002 * (double)ne);
	if (ads + calls > organic_n) {
		ads = organic_n * 15 / 17;
		calls = organic_n - ads;
	}
	purch = organic_n - ads - calls;

	memset(&g, 0, sizeof g);
	g.seed = seed;
	g.nc = nc;
	g.limit = ne;
	g.emit = 1;
	ostr("contact,type,channel,campaign,at,source\n");
	all_days(&g, c, n, per_weight, purch, ads, calls);
	oflush();
	fprintf(stderr, "%s: events: %" PRIu64 " rows, %zu campaigns, %"
	    PRIu64 " naming a dirty row (%" PRIu64 " an address no store "
	    "can know):", prog, g.written, n, g.dirty, g.unknown);
	for (int i = 0; i < NTYPE; i++)
		fprintf(stderr, " %s=%" PRIu64, type_names[i], g.counts[i]);
	fputc('\n', stderr);
	if (g.written != ne) {
		fprintf(stderr, "%s: internal error: %" PRIu64 " events, not %"
		    PRIu64 "\n", prog, g.written, ne);
		return 70;
	}
	return 0;
}

/* --- main ------------------------------------------------------------- */

static int
usage(void)
{
	fprintf(stderr, "usage: %s contacts N [--seed S] [--bom] [--crlf]\n"
	    "       %s events NCONTACTS NEVENTS [--seed S]\n"
	    "       %s campaigns\n", prog, prog, prog);
	return 64;
}

static int
number(const char *s, uint64_t *out)
{
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	*out = strtoull(s, &end, 10);
	return *end == '\0' ? 0 : -1;
}

int
main(int argc, char **argv)
{
	uint64_t nums[2] = {0, 0}, seed = DEFAULT_SEED;
	int bom = 0, crlf = 0, nnum = 0;
	const char *mode;

	if (argc < 2)
		return usage();
	mode = argv[1];
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--seed") == 0) {
			if (number(argv[++i], &seed) != 0)
				return usage();
		} else if (strcmp(argv[i], "--bom") == 0) {
			bom = 1;
		} else if (strcmp(argv[i], "--crlf") == 0) {
			crlf = 1;
		} else if (nnum < 2 && number(argv[i], &nums[nnum]) == 0) {
			nnum++;
		} else {
			return usage();
		}
	}
	if (strcmp(mode, "contacts") == 0 && nnum == 1)
		return contacts(nums[0], seed, bom, crlf);
	if (strcmp(mode, "events") == 0 && nnum == 2 && !bom && !crlf)
		return events(nums[0], nums[1], seed);
	if (strcmp(mode, "campaigns") == 0 && nnum == 0 && !bom && !crlf)
		return list_campaigns();
	return usage();
}
