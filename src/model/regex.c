/* regex.c - PCRE2 wrapper; see regex.h. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "model/regex.h"
#include "util/xalloc.h"

#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

struct regex {
	pcre2_code *code;
};

struct regex *regex_compile(const char *pattern, struct strbuf *err, size_t *err_offset)
{
	int errcode;
	PCRE2_SIZE offset;
	pcre2_code *code;
	struct regex *re;

	code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
			     PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &errcode, &offset, NULL);
	if (!code) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(errcode, msg, sizeof(msg));
		strbuf_addstr(err, (const char *)msg);
		*err_offset = offset;
		return NULL;
	}
	/* JIT is an optimisation: where it is not available the interpreter
	 * gives the same answers. */
	(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	re = xmalloc(sizeof(*re));
	re->code = code;
	return re;
}

void regex_free(struct regex *re)
{
	if (!re)
		return;
	pcre2_code_free(re->code);
	free(re);
}

static int match_at(const struct regex *re, const char *subject, size_t len,
		    pcre2_match_data *md)
{
	return pcre2_match(re->code, (PCRE2_SPTR)subject, len, 0, 0, md, NULL);
}

static void add_capture(pcre2_match_data *md, int rc, const char *subject,
			struct strbuf *capture)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
	int group = rc > 1 && ov[2] != PCRE2_UNSET ? 1 : 0;

	strbuf_add(capture, subject + ov[2 * group], ov[2 * group + 1] - ov[2 * group]);
}

bool regex_match(const struct regex *re, const char *subject, size_t len,
		 struct strbuf *capture)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re->code, NULL);
	int rc = match_at(re, subject, len, md);

	if (rc > 0 && capture)
		add_capture(md, rc, subject, capture);
	pcre2_match_data_free(md);
	return rc > 0;
}

bool regex_last_matching_line(const struct regex *re, const char *subject,
			      size_t len, struct strbuf *line)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re->code, NULL);
	const char *end = subject + len;
	bool found = false;

	/* walk lines from the end: the summary is the latest evidence */
	while (end > subject) {
		const char *start = end;
		int rc;

		while (start > subject && start[-1] != '\n')
			start--;
		rc = start == end ? 0 : match_at(re, start, (size_t)(end - start), md);
		if (rc > 0) {
			add_capture(md, rc, start, line);
			found = true;
			break;
		}
		end = start > subject ? start - 1 : subject;
	}
	pcre2_match_data_free(md);
	return found;
}
