/* explain.h - why a task will or will not run, in words.
 *
 * `squad explain TASK` plans the task as a run would (same files, same
 * state, same selection flags) and says: the verdict; the route (its
 * worker and why that one, or the skills that hand it to the tactician
 * and where each came from, routing rule included); what it needs and
 * what will happen to each; and the reason behind the verdict, down to
 * the input files that changed since its last success.
 */
#ifndef SQUAD_EXPLAIN_H
#define SQUAD_EXPLAIN_H

#include <stddef.h>

#include "plan/plan.h"
#include "model/route.h"
#include "files/state.h"
#include "util/strbuf.h"

/* Append the explanation of `task` (planned as a target of `plan`) to
 * out, its worker's limit under -j `jobs` included. `st` may be NULL (no
 * state: nothing has run). */
void explain_task(struct strbuf *out, const struct plan *plan, const struct state *st,
		  const struct skills *skills, size_t task, unsigned jobs);

#endif
