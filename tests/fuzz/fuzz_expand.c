/* fuzz_expand.c - ${VAR} and {placeholder} expansion.
 *
 * The input is cut at NUL bytes into parts (missing ones are empty):
 *
 *   0  flags: bit 0 keep_unknown, bit 1 environ, bit 2 no `own` scope,
 *      bit 3 no placeholder values at all (check mode), bit 4 no {changed}
 *      list (only the first byte counts; the rest of part 0 is ignored)
 *   1  a template string
 *   2  an argv template, one element per line ("{changed}" alone is one)
 *   3  the Squadfile's vars, "NAME=value" per line
 *   4  squad's own vars, "NAME=value" per line
 *   5  placeholder values, one per line: prompt, task, dir, model, run
 *      (a line that is absent has no value)
 *   6  changed paths, one per line
 *
 * It calls expand_vars(), expand_template_string(), expand_argv() and
 * expand_check_template() (with and without a scope), and checks what
 * the header promises: an expansion with keep_unknown never fails on a
 * variable, and a template that expand_check_template() accepts without
 * a scope never fails for an unknown placeholder.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/expand.h"
#include "fuzz_common.h"
#include "util/strbuf.h"
#include "util/strvec.h"

enum {
	F_KEEP_UNKNOWN = 1 << 0, /* scope.keep_unknown */
	F_ENVIRON = 1 << 1,      /* scope.environ */
	F_NO_OWN = 1 << 2,       /* scope.own = NULL */
	F_NO_VALUES = 1 << 3,    /* every placeholder NULL */
	F_NO_CHANGED = 1 << 4,   /* ph.changed = NULL */
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_fixed_environ();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_parts fp;
	struct strvec tmpl = STRVEC_INIT, vars = STRVEC_INIT, own = STRVEC_INIT;
	struct strvec values = STRVEC_INIT, changed = STRVEC_INIT, argv = STRVEC_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT, bad = STRBUF_INIT;
	struct expand_scope scope = { 0 };
	struct placeholders ph = { 0 };
	const char *text;
	unsigned flags;
	size_t bad_offset = 0;
	int rc_check;

	fuzz_parts_split(&fp, data, size, 7);
	flags = (unsigned char)fuzz_part(&fp, 0, "")[0];
	text = fuzz_part(&fp, 1, "");
	fuzz_push_lines(&tmpl, fuzz_part(&fp, 2, ""), 64);
	fuzz_push_lines(&vars, fuzz_part(&fp, 3, ""), 64);
	fuzz_push_lines(&own, fuzz_part(&fp, 4, ""), 64);
	fuzz_push_lines(&values, fuzz_part(&fp, 5, ""), 5);
	fuzz_push_lines(&changed, fuzz_part(&fp, 6, ""), 64);

	scope.own = flags & F_NO_OWN ? NULL : &own;
	scope.vars = &vars;
	scope.environ = flags & F_ENVIRON;
	scope.keep_unknown = flags & F_KEEP_UNKNOWN;
	if (!(flags & F_NO_VALUES)) {
		ph.prompt = values.nr > 0 ? values.v[0] : NULL;
		ph.task = values.nr > 1 ? values.v[1] : NULL;
		ph.dir = values.nr > 2 ? values.v[2] : NULL;
		ph.model = values.nr > 3 ? values.v[3] : NULL;
		ph.run = values.nr > 4 ? values.v[4] : NULL;
	}
	ph.changed = flags & F_NO_CHANGED ? NULL : &changed;

	/* expand_vars */
	if (expand_vars(&out, text, &scope, &bad_offset, &bad) < 0) {
		if (scope.keep_unknown)
			abort(); /* keep_unknown leaves every unknown name as written */
		if (bad_offset >= strlen(text) || strncmp(text + bad_offset, "${", 2))
			abort(); /* bad_offset must point at the `${` */
	}
	strbuf_reset(&out);
	expand_vars(&out, text, &scope, NULL, NULL);

	/* the template, checked without and with a scope, then expanded */
	strbuf_reset(&out);
	rc_check = expand_check_template(text, NULL, &err);
	strbuf_reset(&err);
	expand_check_template(text, &scope, &err);
	strbuf_reset(&err);
	if (expand_template_string(&out, text, &scope, &ph, &err) < 0 &&
	    rc_check == 0 && scope.keep_unknown && !(flags & F_NO_VALUES) &&
	    values.nr == 5)
		abort(); /* checked, every variable kept and every value given */

	/* the argv template */
	strbuf_reset(&err);
	expand_argv(&argv, &tmpl, &scope, &ph, &err);
	for (size_t i = 0; i < argv.nr; i++)
		if (!argv.v[i])
			abort();
	if (argv.v[argv.nr])
		abort(); /* always NULL-terminated, for execv() */
	for (size_t i = 0; i < tmpl.nr; i++) {
		strbuf_reset(&err);
		expand_check_template(tmpl.v[i], &scope, &err);
	}

	strvec_clear(&argv);
	strbuf_release(&out);
	strbuf_release(&err);
	strbuf_release(&bad);
	strvec_clear(&tmpl);
	strvec_clear(&vars);
	strvec_clear(&own);
	strvec_clear(&values);
	strvec_clear(&changed);
	fuzz_parts_release(&fp);
	return 0;
}
