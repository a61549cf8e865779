/* budget.c - per-worker request budgets in one locked file; see budget.h. */
#include "job/budget.h"
#include "files/fileio.h"
#include "files/state.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

void budget_path(struct strbuf *path)
{
	const char *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");

	if (xdg && *xdg == '/')
		strbuf_addf(path, "%s/squad/budget.json", xdg);
	else
		strbuf_addf(path, "%s/.local/state/squad/budget.json", home && *home ? home : "/tmp");
}

static int mkdir_parents(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return 0;
}

static long long now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void today(char day[16])
{
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(day, 16, "%Y-%m-%d", &tm);
}

/* A count or a time from the file, which a person may have edited: any
 * JSON number (integers are read as reals, so that one past 64 bits is a
 * number rather than a parse error), kept within [lo, hi] so that no sum
 * or difference of it can overflow; lo when it is not a number. */
static long long number_within(const json_t *v, long long lo, long long hi)
{
	double d = json_number_value(v);

	if (!json_is_number(v) || d <= (double)lo)
		return lo;
	if (d >= (double)hi) /* (double)LLONG_MAX is 2^63: past every long long */
		return hi;
	return (long long)d;
}

/* requests + n, stopping at LONG_MAX: a count stuck at the top (or so
 * edited) still exhausts any daily_limit. */
static long add_requests(long requests, long n)
{
	return requests > LONG_MAX - n ? LONG_MAX : requests + n;
}

/* Read the budget file into *all. A missing or empty file counts
 * nothing yet; one that is not a JSON object is an error (reason in err),
 * rather than a silent fresh start that would give back a spent budget. */
static int load_budget(const char *path, json_t **all, struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT;
	json_error_t jerr;

	*all = NULL;
	if (strbuf_read_file(&text, path) < 0) {
		if (errno != ENOENT) {
			strbuf_addf(err, "cannot read '%s': %s", path, strerror(errno));
			strbuf_release(&text);
			return -1;
		}
	} else if (text.len) {
		*all = json_loadb(text.buf, text.len, JSON_DECODE_INT_AS_REAL, &jerr);
		if (!json_is_object(*all)) {
			if (*all)
				strbuf_addf(err, "'%s' is not a budget file (not a JSON object): "
					    "fix or remove it", path);
			else
				strbuf_addf(err, "'%s' is not a budget file (%s at line %d): "
					    "fix or remove it", path, jerr.text, jerr.line);
			json_decref(*all);
			*all = NULL;
			strbuf_release(&text);
			return -1;
		}
	}
	if (!*all)
		*all = json_object();
	strbuf_release(&text);
	return 0;
}

/* Lock the budget file, hand its JSON to `fn`, write back what fn leaves.
 * fn returns the answer; the file is rewritten unless it is an error. */
typedef enum budget_answer (*budget_fn)(json_t *worker_entry, void *data);

static enum budget_answer with_budget(const char *worker, budget_fn fn, void *data,
				      struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, lock = STRBUF_INIT;
	json_t *all = NULL, *entry;
	enum budget_answer answer = BUDGET_ERROR;
	char day[16];
	int fd;

	budget_path(&path);
	strbuf_addf(&lock, "%s.lock", path.buf);
	if (mkdir_parents(path.buf) < 0 ||
	    (fd = open(lock.buf, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		strbuf_addf(err, "cannot open '%s': %s", lock.buf, strerror(errno));
		goto out;
	}
	while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
		;
	if (load_budget(path.buf, &all, err) < 0) {
		close(fd);
		goto out;
	}
	entry = json_object_get(all, worker);
	today(day);
	if (!json_is_object(entry) ||
	    strcmp(json_string_value(json_object_get(entry, "day")) ?
		   json_string_value(json_object_get(entry, "day")) : "", day)) {
		entry = json_object();
		json_object_set_new(entry, "day", json_string(day));
		json_object_set_new(entry, "requests", json_integer(0));
		json_object_set_new(entry, "tokens", json_integer(0));
		json_object_set_new(entry, "recent", json_array());
		json_object_set(all, worker, entry);
		json_decref(entry);
	}
	answer = fn(entry, data);
	if (answer != BUDGET_ERROR) {
		char *out = json_dumps(all, JSON_INDENT(1) | JSON_SORT_KEYS);

		if (file_write(path.buf, out, strlen(out), err) < 0)
			answer = BUDGET_ERROR;
		free(out);
	}
	close(fd); /* drops the lock */
out:
	json_decref(all);
	strbuf_release(&path);
	strbuf_release(&lock);
	return answer;
}

struct reserve {
	long daily_limit, per_minute, count;
	long *wait_ms, *used;
};

/* Keep only the last minute's start times of `entry`, as whole numbers
 * (they were read as reals); returns the list, *oldest the first of them
 * (now when there is none). One in the future (an edit, a clock set
 * back) counts as now, so that it runs out within a minute, not never. */
static json_t *recent_times(json_t *entry, long long now, long long *oldest)
{
	json_t *recent = json_object_get(entry, "recent"), *kept = json_array(), *t;
	size_t i;

	*oldest = now;
	json_array_foreach(recent, i, t) {
		long long at = number_within(t, 0, now);

		if (now - at < 60000) {
			json_array_append_new(kept, json_integer(at));
			if (at < *oldest)
				*oldest = at;
		}
	}
	json_object_set_new(entry, "recent", kept);
	return kept;
}

/* Today's tokens (daily_tokens), within range as any count of the file,
 * and written back as a whole number (it was read as a real). */
static long tokens_of(json_t *entry)
{
	long tokens = (long)number_within(json_object_get(entry, "tokens"), 0, LONG_MAX);

	json_object_set_new(entry, "tokens", json_integer(tokens));
	return tokens;
}

/* A call that charges requests leaves the tokens as whole as it found
 * them. */
static void keep_tokens_whole(json_t *entry)
{
	if (json_object_get(entry, "tokens"))
		tokens_of(entry);
}

static enum budget_answer do_reserve(json_t *entry, void *data)
{
	struct reserve *r = data;
	long requests = (long)number_within(json_object_get(entry, "requests"), 0, LONG_MAX);
	long long now = now_ms(), oldest;
	json_t *kept = recent_times(entry, now, &oldest);

	keep_tokens_whole(entry);
	/* written back as a whole number even when nothing is charged (it
	 * was read as a real) */
	json_object_set_new(entry, "requests", json_integer(requests));
	*r->used = requests;
	/* the whole estimate must fit: a call is not started on a budget
	 * that cannot pay for it */
	if (r->daily_limit && (requests >= r->daily_limit ||
			       r->count > r->daily_limit - requests))
		return BUDGET_EXHAUSTED;
	if (r->per_minute && (long)json_array_size(kept) > r->per_minute - r->count) {
		*r->wait_ms = (long)(60000 - (now - oldest)) + 10;
		return BUDGET_WAIT;
	}
	json_object_set_new(entry, "requests", json_integer(add_requests(requests, r->count)));
	for (long k = 0; k < r->count; k++)
		json_array_append_new(kept, json_integer(now));
	return BUDGET_GRANTED;
}

/* "in 5h 12m" until the next local midnight, when the count starts over. */
static void add_reset_time(struct strbuf *sb)
{
	time_t t = time(NULL), next;
	struct tm tm;
	long left;

	localtime_r(&t, &tm);
	tm.tm_sec = tm.tm_min = tm.tm_hour = 0;
	tm.tm_mday++;
	tm.tm_isdst = -1;
	next = mktime(&tm);
	left = next > t ? (long)(next - t) : 0;
	strbuf_addf(sb, "it resets at midnight, local time (in %ldh %02ldm)",
		    left / 3600, left / 60 % 60);
}

enum budget_answer budget_reserve(const char *worker, long daily_limit, long per_minute,
				  long *count, long *wait_ms, long *used, struct strbuf *err)
{
	struct reserve r = { daily_limit, per_minute, *count < 1 ? 1 : *count, wait_ms, used };
	enum budget_answer answer;

	/* a limit below one call's estimate still lets a call through */
	if (daily_limit && r.count > daily_limit)
		r.count = daily_limit;
	if (per_minute && r.count > per_minute)
		r.count = per_minute;
	*count = r.count;
	answer = with_budget(worker, do_reserve, &r, err);
	if (answer == BUDGET_EXHAUSTED) {
		struct strbuf path = STRBUF_INIT;

		budget_path(&path);
		strbuf_addf(err, "budget exhausted: worker '%s' has used %ld of its daily_limit "
			    "of %ld requests today", worker, *used, daily_limit);
		if (*used < daily_limit)
			strbuf_addf(err, ", and a call is charged %ld", r.count);
		strbuf_addstr(err, "; ");
		add_reset_time(err);
		strbuf_addf(err, "; the count is kept in '%s'", path.buf);
		strbuf_release(&path);
	}
	return answer;
}

struct tokens {
	long limit, add;
	long *used;
};

static enum budget_answer do_check_tokens(json_t *entry, void *data)
{
	struct tokens *t = data;

	*t->used = tokens_of(entry);
	/* the requests are written back as read: whole */
	json_object_set_new(entry, "requests", json_integer((long)number_within(
		json_object_get(entry, "requests"), 0, LONG_MAX)));
	return *t->used >= t->limit ? BUDGET_EXHAUSTED : BUDGET_GRANTED;
}

enum budget_answer budget_check_tokens(const char *worker, long daily_tokens, long *used,
				       struct strbuf *err)
{
	struct tokens t = { daily_tokens, 0, used };
	enum budget_answer answer;

	*used = 0;
	answer = with_budget(worker, do_check_tokens, &t, err);
	if (answer == BUDGET_EXHAUSTED) {
		struct strbuf path = STRBUF_INIT;

		budget_path(&path);
		strbuf_addf(err, "budget exhausted: worker '%s' has used %ld of its daily_tokens "
			    "of %ld tokens today; ", worker, *used, daily_tokens);
		add_reset_time(err);
		strbuf_addf(err, "; the count is kept in '%s'", path.buf);
		strbuf_release(&path);
	}
	return answer;
}

static enum budget_answer do_add_tokens(json_t *entry, void *data)
{
	struct tokens *t = data;

	json_object_set_new(entry, "tokens", json_integer(add_requests(tokens_of(entry), t->add)));
	json_object_set_new(entry, "requests", json_integer((long)number_within(
		json_object_get(entry, "requests"), 0, LONG_MAX)));
	return BUDGET_GRANTED;
}

int budget_add_tokens(const char *worker, long tokens, struct strbuf *err)
{
	long ignored;
	struct tokens t = { 0, tokens, &ignored };

	if (tokens <= 0)
		return 0;
	return with_budget(worker, do_add_tokens, &t, err) == BUDGET_ERROR ? -1 : 0;
}

long budget_call_tokens(long input, long output, long total)
{
	if (total >= 0)
		return total;
	if (input < 0 && output < 0)
		return -1;
	return add_requests(input < 0 ? 0 : input, output < 0 ? 0 : output);
}

static enum budget_answer do_settle(json_t *entry, void *data)
{
	long delta = *(long *)data;
	long requests = (long)number_within(json_object_get(entry, "requests"), 0, LONG_MAX);
	long long now = now_ms(), oldest;
	json_t *recent = recent_times(entry, now, &oldest);

	keep_tokens_whole(entry);
	if (delta > 0) {
		requests = add_requests(requests, delta);
		/* the requests count in this minute too (a bounded list: a
		 * count this large spends any per_minute anyway) */
		for (long i = 0; i < delta && json_array_size(recent) < 10000; i++)
			json_array_append_new(recent, json_integer(now));
	} else {
		requests = requests == LONG_MAX ? requests /* stuck at the top stays spent */
			: requests + delta < 0 ? 0 : requests + delta;
	}
	json_object_set_new(entry, "requests", json_integer(requests));
	return BUDGET_GRANTED;
}

int budget_settle(const char *worker, long delta, struct strbuf *err)
{
	if (delta == 0)
		return 0;
	if (delta < -LONG_MAX)
		delta = -LONG_MAX;
	return with_budget(worker, do_settle, &delta, err) == BUDGET_ERROR ? -1 : 0;
}

int budget_used_today(const char *worker, long *requests, long *tokens, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	json_t *all, *entry;
	const char *day;
	char now[16];

	*requests = *tokens = 0;
	budget_path(&path);
	if (load_budget(path.buf, &all, err) < 0) {
		strbuf_release(&path);
		return -1;
	}
	entry = json_object_get(all, worker);
	day = json_string_value(json_object_get(entry, "day"));
	today(now);
	if (json_is_object(entry) && day && !strcmp(day, now)) {
		*requests = (long)number_within(json_object_get(entry, "requests"), 0, LONG_MAX);
		*tokens = (long)number_within(json_object_get(entry, "tokens"), 0, LONG_MAX);
	}
	json_decref(all);
	strbuf_release(&path);
	return 0;
}

bool budget_describe(const char *worker, long daily_limit, long per_minute, long daily_tokens,
		     struct strbuf *out)
{
	struct strbuf err = STRBUF_INIT;
	long requests, tokens;
	bool known, spent;

	if (!daily_limit && !per_minute && !daily_tokens)
		return false;
	known = budget_used_today(worker, &requests, &tokens, &err) == 0;
	spent = known && ((daily_limit && requests >= daily_limit) ||
			  (daily_tokens && tokens >= daily_tokens));
	if (daily_limit) {
		if (known)
			strbuf_addf(out, "%ld of ", requests);
		strbuf_addf(out, "its daily_limit of %ld requests", daily_limit);
	}
	if (daily_tokens) {
		strbuf_addstr(out, daily_limit ? " and " : "");
		if (known)
			strbuf_addf(out, "%ld of ", tokens);
		strbuf_addf(out, "its daily_tokens of %ld tokens", daily_tokens);
	}
	if ((daily_limit || daily_tokens) && known)
		strbuf_addstr(out, " used today");
	if (per_minute)
		strbuf_addf(out, "%sat most %ld requests a minute (per_minute)",
			    daily_limit || daily_tokens ? ", " : "", per_minute);
	if (!known)
		strbuf_addf(out, "; today's use unknown: %s", err.buf);
	if (daily_limit || daily_tokens) {
		strbuf_addstr(out, "; ");
		add_reset_time(out);
	}
	if (spent)
		strbuf_addstr(out, "; spent: its tasks fail as 'budget exhausted' until then");
	strbuf_release(&err);
	return true;
}
