/* glob.c - git ':(glob)' pathspec matching without recursion; see glob.h.
 *
 * Each pattern is split the way git's match_pathspec_item() sees it: the
 * normalised pattern with the base in front ("match"), compared literally
 * as a path or leading folder, and, past its literal head, a wildmatch()
 * pattern with WM_PATHNAME. That second part is compiled into tokens and
 * run as an NFA (a set of live token positions per path byte) instead of
 * git's backtracking dowild(), which gives the same answers but can take
 * exponential time (git 2.39: "*a*a*a*a..." against "aaaa...b").
 */
#include "model/glob.h"
#include "util/xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum token_kind {
	TOK_BYTE,	/* one byte equal to `arg` */
	TOK_ANY,	/* `?`: one byte other than '/' */
	TOK_SET,	/* `[...]`: one byte in sets[arg] ('/' never is) */
	TOK_STAR,	/* `*`: any run of bytes other than '/' */
	TOK_STARSTAR,	/* `**` as a component: any run, '/' included */
	TOK_SKIP,	/* reads nothing; may jump `arg` tokens ahead */
};

struct token {
	enum token_kind kind;
	size_t arg;
};

/* A set of bytes, one bit each. */
struct byteset {
	uint8_t bits[32];
};

struct item {
	char *match;		/* base + normalised pattern, git's item->match */
	size_t len;
	size_t head;		/* literal head, git's item->nowildcard_len */
	struct token *tokens;	/* match[head..] compiled; none when head == len */
	size_t nr_tokens;
	struct byteset *sets;
	size_t nr_sets;
	bool negative;
};

struct globset {
	struct item *items;
	size_t nr, alloc;
	char *prefix;
};

static void byteset_add(struct byteset *s, unsigned char c)
{
	s->bits[c >> 3] |= (uint8_t)(1u << (c & 7));
}

static bool byteset_has(const struct byteset *s, unsigned char c)
{
	return s->bits[c >> 3] & (1u << (c & 7));
}

/* git's is_glob_special(): the bytes that end a pattern's literal head. */
static bool is_glob_special(unsigned char c)
{
	return c == '*' || c == '?' || c == '[' || c == '\\';
}

/*
 * The [:name:] classes with git's own locale-independent ctype (ctype.c),
 * which is what wildmatch() uses: ASCII only, and "space" is " \t\n\r".
 */
static bool in_class(const char *name, size_t len, unsigned c)
{
#define IS(s) (len == sizeof(s) - 1 && !memcmp(name, s, len))
	bool upper = c >= 'A' && c <= 'Z', lower = c >= 'a' && c <= 'z';
	bool digit = c >= '0' && c <= '9', space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
	bool print = c >= 0x20 && c <= 0x7e;

	if (IS("alnum"))
		return upper || lower || digit;
	if (IS("alpha"))
		return upper || lower;
	if (IS("blank"))
		return c == ' ' || c == '\t';
	if (IS("cntrl"))
		return c < 0x20 || c == 0x7f;
	if (IS("digit"))
		return digit;
	if (IS("graph"))
		return print && c != ' ';
	if (IS("lower"))
		return lower;
	if (IS("print"))
		return print;
	if (IS("punct"))
		return print && !upper && !lower && !digit && c != ' ';
	if (IS("space"))
		return space;
	if (IS("upper"))
		return upper;
	if (IS("xdigit"))
		return digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
	return false;
#undef IS
}

static bool is_class_name(const char *name, size_t len)
{
	static const char *const names[] = {
		"alnum", "alpha", "blank", "cntrl", "digit", "graph",
		"lower", "print", "punct", "space", "upper", "xdigit",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (strlen(names[i]) == len && !memcmp(names[i], name, len))
			return true;
	return false;
}

/*
 * Parse the bracket expression at p ('['), in exactly the steps of
 * dowild()'s case '[', into `set`. Returns the position of its closing
 * ']', or NULL with the reason in `err`.
 */
static const char *parse_set(const char *p, struct byteset *set, struct strbuf *err)
{
	unsigned char p_ch, prev_ch = 0;
	bool negated;
	unsigned c;

	memset(set, 0, sizeof(*set));
	p_ch = *++p;
	if (p_ch == '^')
		p_ch = '!';
	negated = p_ch == '!';
	if (negated)
		p_ch = *++p;
	/* The first byte is a member even if it is ']' (do-while). */
	do {
		if (!p_ch)
			goto unclosed;
		if (p_ch == '\\') {
			p_ch = *++p;
			if (!p_ch)
				goto unclosed;
			byteset_add(set, p_ch);
		} else if (p_ch == '-' && prev_ch && p[1] && p[1] != ']') {
			p_ch = *++p;
			if (p_ch == '\\') {
				p_ch = *++p;
				if (!p_ch)
					goto unclosed;
			}
			for (c = prev_ch; c <= p_ch; c++)
				byteset_add(set, (unsigned char)c);
			p_ch = 0; /* a range cannot start a range */
		} else if (p_ch == '[' && p[1] == ':') {
			const char *s = p += 2;
			int len;

			while ((p_ch = *p) && p_ch != ']')
				p++;
			if (!p_ch)
				goto unclosed;
			len = (int)(p - s) - 1;
			if (len < 0 || p[-1] != ':') {
				/* no ":]" before the first ']': a plain '[' */
				p = s - 2;
				p_ch = '[';
				byteset_add(set, p_ch);
				continue;
			}
			if (!is_class_name(s, (size_t)len)) {
				strbuf_addf(err, "unknown character class '[:%.*s:]'", len, s);
				return NULL;
			}
			for (c = 0; c < 256; c++)
				if (in_class(s, (size_t)len, c))
					byteset_add(set, (unsigned char)c);
			p_ch = 0;
		} else {
			byteset_add(set, p_ch);
		}
	} while (prev_ch = p_ch, (p_ch = *++p) != ']');

	if (negated)
		for (c = 0; c < sizeof(set->bits); c++)
			set->bits[c] = (uint8_t)~set->bits[c];
	/* with WM_PATHNAME no set matches '/', negated or not */
	set->bits['/' >> 3] &= (uint8_t)~(1u << ('/' & 7));
	return p;

unclosed:
	strbuf_addstr(err, "unclosed '['");
	return NULL;
}

static void add_token(struct item *it, size_t *alloc, enum token_kind kind, size_t arg)
{
	ALLOC_GROW(it->tokens, it->nr_tokens + 1, *alloc);
	it->tokens[it->nr_tokens].kind = kind;
	it->tokens[it->nr_tokens].arg = arg;
	it->nr_tokens++;
}

/*
 * Compile `pat`, the wildmatch() part of it->match, into tokens. `pat` is
 * where dowild() starts, which matters for "**": dowild() treats it as a
 * whole component when the byte before it is '/' or when it is the first
 * thing in the pattern it was given. Returns 0, or -1 with `err` set.
 */
static int compile(struct item *it, const char *pat, struct strbuf *err)
{
	size_t tok_alloc = 0, set_alloc = 0;
	const char *p = pat;

	while (*p) {
		switch (*p) {
		case '\\':
			if (!p[1]) {
				strbuf_addstr(err, "trailing backslash");
				return -1;
			}
			add_token(it, &tok_alloc, TOK_BYTE, (unsigned char)p[1]);
			p += 2;
			break;
		case '?':
			add_token(it, &tok_alloc, TOK_ANY, 0);
			p++;
			break;
		case '[': {
			const char *end;

			ALLOC_GROW(it->sets, it->nr_sets + 1, set_alloc);
			end = parse_set(p, &it->sets[it->nr_sets], err);
			if (!end)
				return -1;
			add_token(it, &tok_alloc, TOK_SET, it->nr_sets++);
			p = end + 1;
			break;
		}
		case '*': {
			const char *star = p;

			while (*p == '*')
				p++;
			if (p - star == 1 || !(star == pat || star[-1] == '/'))
				add_token(it, &tok_alloc, TOK_STAR, 0);
			else if (*p == '/') {
				/* "**" "/" is nothing, or any run then '/' */
				add_token(it, &tok_alloc, TOK_SKIP, 3);
				add_token(it, &tok_alloc, TOK_STARSTAR, 0);
				add_token(it, &tok_alloc, TOK_BYTE, '/');
				p++;
			} else if (!*p || (p[0] == '\\' && p[1] == '/'))
				/* no "match no folder" shortcut before "\/" */
				add_token(it, &tok_alloc, TOK_STARSTAR, 0);
			else
				add_token(it, &tok_alloc, TOK_STAR, 0);
			break;
		}
		default:
			add_token(it, &tok_alloc, TOK_BYTE, (unsigned char)*p);
			p++;
			break;
		}
	}
	return 0;
}

/* Add the states reachable from live ones without reading a byte; they
 * only ever lead forward, so one pass does. Widens *hi to match. */
static void close_states(const struct item *it, unsigned char *live, size_t lo, size_t *hi)
{
	size_t i;

	for (i = lo; i <= *hi && i < it->nr_tokens; i++) {
		const struct token *t = &it->tokens[i];
		size_t to = i + (t->kind == TOK_SKIP ? t->arg : 1);

		if (!live[i])
			continue;
		if (t->kind == TOK_STAR || t->kind == TOK_STARSTAR || t->kind == TOK_SKIP) {
			live[i + 1] = 1;
			live[to] = 1;
			if (*hi < to)
				*hi = to;
		}
	}
}

/*
 * Does `text` match the tokens as a whole? A Thompson NFA walk: live[i]
 * says "tokens 0..i-1 have matched the bytes read so far", and state
 * nr_tokens accepts. Live states stay within [lo, hi]; the other array is
 * kept all zero between steps.
 */
static bool tokens_match(const struct item *it, const char *text)
{
	size_t n = it->nr_tokens, lo = 0, hi = 0, i;
	unsigned char small[2 * 128], *live, *next, *heap = NULL;
	bool matched;

	if (n + 1 <= sizeof(small) / 2) {
		live = small;
	} else {
		heap = xmalloc(2 * (n + 1));
		live = heap;
	}
	next = live + n + 1;
	memset(live, 0, 2 * (n + 1));
	live[0] = 1;
	close_states(it, live, lo, &hi);

	for (; *text; text++) {
		unsigned char c = (unsigned char)*text, *swap;
		size_t nlo = SIZE_MAX, nhi = 0;

		for (i = lo; i <= hi && i < n; i++) {
			const struct token *t = &it->tokens[i];
			bool stay = false, advance = false;

			if (!live[i])
				continue;
			switch (t->kind) {
			case TOK_BYTE:
				advance = c == t->arg;
				break;
			case TOK_ANY:
				advance = c != '/';
				break;
			case TOK_SET:
				advance = byteset_has(&it->sets[t->arg], c);
				break;
			case TOK_STAR:
				stay = c != '/';
				break;
			case TOK_STARSTAR:
				stay = true;
				break;
			case TOK_SKIP:
				break;
			}
			if (stay) {
				next[i] = 1;
				if (nlo > i)
					nlo = i;
				nhi = i;
			}
			if (advance) {
				next[i + 1] = 1;
				if (nlo > i + 1)
					nlo = i + 1;
				nhi = i + 1;
			}
		}
		memset(live + lo, 0, hi - lo + 1);
		if (nlo == SIZE_MAX) {
			matched = false;
			goto done;
		}
		swap = live;
		live = next;
		next = swap;
		lo = nlo;
		hi = nhi;
		close_states(it, live, lo, &hi);
		/* a trailing "**" takes whatever is left */
		if (live[n] && it->tokens[n - 1].kind == TOK_STARSTAR)
			break;
	}
	matched = live[n];
done:
	free(heap);
	return matched;
}

/* git's match_pathspec_item() for one index entry, without magic. */
static bool item_match(const struct item *it, const char *path)
{
	size_t pathlen = strlen(path);

	if (!it->len)
		return true;
	if (it->len <= pathlen && !memcmp(it->match, path, it->len)) {
		if (it->len == pathlen || it->match[it->len - 1] == '/' ||
		    path[it->len] == '/')
			return true;
	}
	if (it->head == it->len || it->head > pathlen ||
	    memcmp(it->match, path, it->head))
		return false;
	return tokens_match(it, path + it->head);
}

/*
 * Append `pat` to `out` the way git's normalize_path_copy() would: no
 * "." components, no repeated slashes; a trailing slash (or "/.") stays.
 * Returns 0, or -1 with the reason in `err` for "..".
 */
static int normalize(struct strbuf *out, const char *pat, struct strbuf *err)
{
	size_t start = out->len;
	const char *p = pat;
	bool trailing = false;

	while (*p) {
		const char *end = strchrnul(p, '/');
		size_t len = (size_t)(end - p);

		trailing = *end == '/' || (len == 1 && *p == '.');
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			strbuf_addstr(err, "'..' is not allowed");
			return -1;
		}
		if (len && !(len == 1 && *p == '.')) {
			if (out->len > start)
				strbuf_addch(out, '/');
			strbuf_add(out, p, len);
		}
		p = *end ? end + 1 : end;
	}
	if (trailing && out->len > start)
		strbuf_addch(out, '/');
	return 0;
}

static void item_release(struct item *it)
{
	free(it->match);
	free(it->tokens);
	free(it->sets);
}

/*
 * Compile one pattern (no leading '!') relative to `base` ("" or ending
 * in '/') into `it`. Returns 0, or -1 with the reason in `err`.
 */
static int item_init(struct item *it, const char *base, const char *pat,
		     bool negative, struct strbuf *err)
{
	struct strbuf match = STRBUF_INIT;
	size_t baselen = strlen(base);

	memset(it, 0, sizeof(*it));
	it->negative = negative;
	if (!*pat) {
		strbuf_addstr(err, "empty pattern (use '.' to match everything)");
		return -1;
	}
	if (*pat == '/') {
		strbuf_addstr(err, "absolute patterns are not allowed");
		return -1;
	}
	strbuf_addstr(&match, base);
	if (normalize(&match, pat, err) < 0) {
		strbuf_release(&match);
		return -1;
	}
	it->len = match.len;
	it->match = strbuf_detach(&match, NULL);
	/* git's simple_length(), but never inside the (literal) base */
	for (it->head = 0; it->head < it->len; it->head++)
		if (is_glob_special((unsigned char)it->match[it->head]))
			break;
	if (it->head < baselen)
		it->head = baselen;
	if (it->head < it->len && compile(it, it->match + it->head, err) < 0) {
		item_release(it);
		return -1;
	}
	return 0;
}

/* The longest folder prefix of the literal heads of positive items:
 * git's common_prefix_len(). */
static char *common_prefix(const struct globset *gs)
{
	const struct item *first = NULL;
	size_t max = 0, n, i;

	for (n = 0; n < gs->nr; n++) {
		const struct item *it = &gs->items[n];
		size_t len = 0;

		if (it->negative)
			continue;
		if (!first) {
			first = it;
			max = it->head;
		}
		for (i = 0; i < it->head && i < max && it->match[i] == first->match[i]; i++)
			if (it->match[i] == '/')
				len = i + 1;
		max = len;
		if (!max)
			break;
	}
	return first ? xstrndup(first->match, max) : xstrdup("");
}

struct globset *globset_new(const struct strvec *patterns, const char *base,
			    struct strbuf *err)
{
	struct globset *gs = xcalloc(1, sizeof(*gs));
	struct strbuf folder = STRBUF_INIT, why = STRBUF_INIT;
	bool positive = false;
	size_t i;

	if (base && *base == '/') {
		strbuf_addf(err, "folder '%s' is absolute", base);
		goto error;
	}
	if (base && normalize(&folder, base, &why) < 0) {
		strbuf_addf(err, "folder '%s': %s", base, why.buf);
		goto error;
	}
	if (folder.len && folder.buf[folder.len - 1] != '/')
		strbuf_addch(&folder, '/');

	for (i = 0; i < patterns->nr; i++) {
		const char *pat = patterns->v[i];
		bool negative = *pat == '!';

		ALLOC_GROW(gs->items, gs->nr + 1, gs->alloc);
		if (item_init(&gs->items[gs->nr], folder.buf, pat + negative,
			      negative, &why) < 0) {
			strbuf_addf(err, "pattern '%s': %s", pat, why.buf);
			goto error;
		}
		gs->nr++;
		positive |= !negative;
	}
	/* Only exclusions: exclude from ".", as git does. */
	if (gs->nr && !positive) {
		ALLOC_GROW(gs->items, gs->nr + 1, gs->alloc);
		if (item_init(&gs->items[gs->nr], folder.buf, ".", false, err) < 0)
			goto error;
		gs->nr++;
	}
	gs->prefix = common_prefix(gs);
	strbuf_release(&folder);
	return gs;

error:
	strbuf_release(&folder);
	strbuf_release(&why);
	globset_free(gs);
	return NULL;
}

bool globset_match(const struct globset *gs, const char *path)
{
	bool in = false;
	size_t i;

	for (i = 0; i < gs->nr && !in; i++)
		in = !gs->items[i].negative && item_match(&gs->items[i], path);
	for (i = 0; i < gs->nr && in; i++)
		in = !gs->items[i].negative || !item_match(&gs->items[i], path);
	return in;
}

const char *globset_prefix(const struct globset *gs)
{
	return gs->prefix;
}

void globset_free(struct globset *gs)
{
	size_t i;

	if (!gs)
		return;
	for (i = 0; i < gs->nr; i++)
		item_release(&gs->items[i]);
	free(gs->items);
	free(gs->prefix);
	free(gs);
}

bool glob_match(const char *pattern, const char *path)
{
	struct strbuf err = STRBUF_INIT;
	struct item it;
	bool matched;

	if (item_init(&it, "", pattern, false, &err) < 0) {
		strbuf_release(&err);
		return false;
	}
	matched = item_match(&it, path);
	item_release(&it);
	return matched;
}
