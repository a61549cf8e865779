/* gitinfo.c - libgit2 queries; see gitinfo.h. */
#include "gitinfo.h"
#include "util/xalloc.h"

#include <git2.h>
#include <stdlib.h>
#include <string.h>

void gitinfo_global_init(void)
{
	git_libgit2_init();
}

void gitinfo_global_shutdown(void)
{
	git_libgit2_shutdown();
}

static int fail(struct strbuf *err, const char *what)
{
	const git_error *e = git_error_last();

	strbuf_addf(err, "git: %s: %s", what, e && e->message ? e->message : "unknown error");
	return -1;
}

int gitinfo_read(struct gitinfo *gi, const char *path, struct strbuf *err)
{
	git_repository *repo = NULL;
	git_reference *head = NULL;
	git_status_list *status = NULL;
	git_status_options opts;
	int rc, ret = -1;

	memset(gi, 0, sizeof(*gi));
	strvec_init(&gi->dirty);
	rc = git_repository_open_ext(&repo, path, 0, NULL);
	if (rc == GIT_ENOTFOUND)
		return 0;
	if (rc < 0)
		return fail(err, "cannot open the repository");
	if (git_repository_is_bare(repo)) {
		git_repository_free(repo);
		return 0;
	}
	gi->in_repo = true;
	gi->workdir = xstrdup(git_repository_workdir(repo));

	rc = git_repository_head(&head, repo);
	if (rc == 0) {
		char hex[GIT_OID_HEXSZ + 1];
		const git_oid *oid = git_reference_target(head);

		if (oid) {
			git_oid_tostr(hex, sizeof(hex), oid);
			gi->head = xstrdup(hex);
		}
		if (git_reference_is_branch(head))
			gi->branch = xstrdup(git_reference_shorthand(head));
	} else if (rc == GIT_EUNBORNBRANCH) {
		git_reference *unborn = NULL;

		/* no commit yet: the branch HEAD names still is the branch */
		if (git_reference_lookup(&unborn, repo, "HEAD") == 0) {
			const char *target = git_reference_symbolic_target(unborn);

			if (target && !strncmp(target, "refs/heads/", 11))
				gi->branch = xstrdup(target + 11);
			git_reference_free(unborn);
		}
	} else {
		fail(err, "cannot read HEAD");
		goto out;
	}

	git_status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION);
	opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS |
		     GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	if (git_status_list_new(&status, repo, &opts) < 0) {
		fail(err, "cannot read the status");
		goto out;
	}
	for (size_t i = 0; i < git_status_list_entrycount(status); i++) {
		const git_status_entry *e = git_status_byindex(status, i);
		const git_diff_delta *d = e->head_to_index ? e->head_to_index : e->index_to_workdir;

		/* a path staged and changed again is listed by both deltas;
		 * the status list is sorted by path, so a repeat is adjacent */
		if (d && d->new_file.path && (!gi->dirty.nr ||
		    strcmp(gi->dirty.v[gi->dirty.nr - 1], d->new_file.path)))
			strvec_push(&gi->dirty, d->new_file.path);
	}
	ret = 0;
out:
	git_status_list_free(status);
	git_reference_free(head);
	git_repository_free(repo);
	return ret;
}

void gitinfo_hash(const char *data, size_t len, char hex[41])
{
	git_oid oid;

	git_odb_hash(&oid, data, len, GIT_OBJECT_BLOB);
	git_oid_tostr(hex, 41, &oid);
}

void gitinfo_release(struct gitinfo *gi)
{
	free(gi->workdir);
	free(gi->head);
	free(gi->branch);
	strvec_clear(&gi->dirty);
	memset(gi, 0, sizeof(*gi));
}
