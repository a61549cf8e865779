/* gitlib.h - libgit2, opened with dlopen() the first time squad needs git.
 *
 * Linked, libgit2 and the 13 libraries it brings (OpenSSL's libcrypto,
 * Kerberos, libssh2, mbedTLS...) cost every start of squad about 2 ms in
 * the dynamic loader: more than sh takes to start four commands and wait
 * for them, and more than all the rest of a small `squad exec`. Most
 * commands in a plain folder never touch git. So, as libcurl
 * (cache_http.c) and libarchive (artifact.c) are, libgit2 is opened on
 * first use.
 *
 * Only gitinfo.c and isolate.c include this, in place of <git2.h>: after
 * it, each libgit2 function they call names a pointer of `gitlib`, typed
 * as git2.h declares the function, so their code reads as plain libgit2.
 *
 * The caller's steps: gitlib_load() before the first libgit2 call
 * (gitinfo_global_init() does it, and also runs git_libgit2_init()).
 * Until it has succeeded, only the functions that free (the *_free()
 * ones and git_buf_dispose()) may be called: there is nothing to free
 * yet, and they do nothing, as libgit2's own do with NULL. Anything else
 * would call through a NULL pointer.
 */
#ifndef SQUAD_GITLIB_H
#define SQUAD_GITLIB_H

#include <git2.h>

#include "util/strbuf.h"

/* The library's file name, from pkg-config at configure time: its
 * SONAME (libgit2 changes it with each minor version). */
#ifndef SQUAD_LIBGIT2_SONAME
#define SQUAD_LIBGIT2_SONAME "libgit2.so"
#endif

/* Load libgit2, once per process (thread-safe). Returns 0, or -1 with
 * "cannot load libgit2 (FILE): dlerror's reason" in err, then and on
 * every later call. */
int gitlib_load(struct strbuf *err);

/* The functions that free, callable before gitlib_load(). */
#define GITLIB_FREE_FUNCTIONS(X) \
	X(git_blob_free) \
	X(git_buf_dispose) \
	X(git_commit_free) \
	X(git_config_free) \
	X(git_diff_free) \
	X(git_diff_stats_free) \
	X(git_index_free) \
	X(git_object_free) \
	X(git_reference_free) \
	X(git_repository_free) \
	X(git_signature_free) \
	X(git_status_list_free) \
	X(git_tree_entry_free) \
	X(git_tree_free)

/* Every other libgit2 function squad calls. */
#define GITLIB_FUNCTIONS(X) \
	X(git_apply_options_init) \
	X(git_apply_to_tree) \
	X(git_blob_filter) \
	X(git_blob_filter_options_init) \
	X(git_blob_is_binary) \
	X(git_blob_lookup) \
	X(git_blob_rawcontent) \
	X(git_blob_rawsize) \
	X(git_checkout_options_init) \
	X(git_checkout_tree) \
	X(git_commit_create) \
	X(git_commit_lookup) \
	X(git_commit_tree) \
	X(git_config_get_path) \
	X(git_diff_find_options_init) \
	X(git_diff_find_similar) \
	X(git_diff_foreach) \
	X(git_diff_from_buffer) \
	X(git_diff_get_delta) \
	X(git_diff_get_stats) \
	X(git_diff_index_to_workdir) \
	X(git_diff_num_deltas) \
	X(git_diff_options_init) \
	X(git_diff_stats_to_buf) \
	X(git_diff_to_buf) \
	X(git_diff_tree_to_index) \
	X(git_diff_tree_to_tree) \
	X(git_diff_tree_to_workdir_with_index) \
	X(git_error_last) \
	X(git_ignore_path_is_ignored) \
	X(git_index_add_all) \
	X(git_index_add_bypath) \
	X(git_index_find_prefix) \
	X(git_index_get_bypath) \
	X(git_index_has_conflicts) \
	X(git_index_open) \
	X(git_index_remove_bypath) \
	X(git_index_update_all) \
	X(git_index_write_tree) \
	X(git_libgit2_init) \
	X(git_libgit2_shutdown) \
	X(git_object_peel) \
	X(git_odb_hash) \
	X(git_oid_equal) \
	X(git_oid_fromstr) \
	X(git_oid_tostr) \
	X(git_reference_is_branch) \
	X(git_reference_lookup) \
	X(git_reference_name_to_id) \
	X(git_reference_shorthand) \
	X(git_reference_symbolic_target) \
	X(git_reference_target) \
	X(git_repository_commondir) \
	X(git_repository_config_snapshot) \
	X(git_repository_hashfile) \
	X(git_repository_head) \
	X(git_repository_index) \
	X(git_repository_is_bare) \
	X(git_repository_open) \
	X(git_repository_open_ext) \
	X(git_repository_path) \
	X(git_repository_workdir) \
	X(git_revparse_single) \
	X(git_signature_new) \
	X(git_status_byindex) \
	X(git_status_list_entrycount) \
	X(git_status_list_new) \
	X(git_status_options_init) \
	X(git_tree_entry_bypath) \
	X(git_tree_entry_id) \
	X(git_tree_lookup)

/* All NULL until gitlib_load() has succeeded. */
struct gitlib {
#define GITLIB_POINTER(name) __typeof__(&name) name;
	GITLIB_FREE_FUNCTIONS(GITLIB_POINTER)
	GITLIB_FUNCTIONS(GITLIB_POINTER)
#undef GITLIB_POINTER
};
extern struct gitlib gitlib;

/* From here on, libgit2's names are the pointers (not in gitlib.c,
 * which fills them in by those names). An oversight (a function not in
 * the lists) is a link error: squad is not linked with libgit2. */
#ifndef GITLIB_NO_NAMES
#define git_blob_free(p) (gitlib.git_blob_free ? gitlib.git_blob_free(p) : (void)0)
#define git_buf_dispose(p) (gitlib.git_buf_dispose ? gitlib.git_buf_dispose(p) : (void)0)
#define git_commit_free(p) (gitlib.git_commit_free ? gitlib.git_commit_free(p) : (void)0)
#define git_config_free(p) (gitlib.git_config_free ? gitlib.git_config_free(p) : (void)0)
#define git_diff_free(p) (gitlib.git_diff_free ? gitlib.git_diff_free(p) : (void)0)
#define git_diff_stats_free(p) \
	(gitlib.git_diff_stats_free ? gitlib.git_diff_stats_free(p) : (void)0)
#define git_index_free(p) (gitlib.git_index_free ? gitlib.git_index_free(p) : (void)0)
#define git_object_free(p) (gitlib.git_object_free ? gitlib.git_object_free(p) : (void)0)
#define git_reference_free(p) \
	(gitlib.git_reference_free ? gitlib.git_reference_free(p) : (void)0)
#define git_repository_free(p) \
	(gitlib.git_repository_free ? gitlib.git_repository_free(p) : (void)0)
#define git_signature_free(p) \
	(gitlib.git_signature_free ? gitlib.git_signature_free(p) : (void)0)
#define git_status_list_free(p) \
	(gitlib.git_status_list_free ? gitlib.git_status_list_free(p) : (void)0)
#define git_tree_entry_free(p) \
	(gitlib.git_tree_entry_free ? gitlib.git_tree_entry_free(p) : (void)0)
#define git_tree_free(p) (gitlib.git_tree_free ? gitlib.git_tree_free(p) : (void)0)

#define git_apply_options_init gitlib.git_apply_options_init
#define git_apply_to_tree gitlib.git_apply_to_tree
#define git_blob_filter gitlib.git_blob_filter
#define git_blob_filter_options_init gitlib.git_blob_filter_options_init
#define git_blob_is_binary gitlib.git_blob_is_binary
#define git_blob_lookup gitlib.git_blob_lookup
#define git_blob_rawcontent gitlib.git_blob_rawcontent
#define git_blob_rawsize gitlib.git_blob_rawsize
#define git_checkout_options_init gitlib.git_checkout_options_init
#define git_checkout_tree gitlib.git_checkout_tree
#define git_commit_create gitlib.git_commit_create
#define git_commit_lookup gitlib.git_commit_lookup
#define git_commit_tree gitlib.git_commit_tree
#define git_config_get_path gitlib.git_config_get_path
#define git_diff_find_options_init gitlib.git_diff_find_options_init
#define git_diff_find_similar gitlib.git_diff_find_similar
#define git_diff_foreach gitlib.git_diff_foreach
#define git_diff_from_buffer gitlib.git_diff_from_buffer
#define git_diff_get_delta gitlib.git_diff_get_delta
#define git_diff_get_stats gitlib.git_diff_get_stats
#define git_diff_index_to_workdir gitlib.git_diff_index_to_workdir
#define git_diff_num_deltas gitlib.git_diff_num_deltas
#define git_diff_options_init gitlib.git_diff_options_init
#define git_diff_stats_to_buf gitlib.git_diff_stats_to_buf
#define git_diff_to_buf gitlib.git_diff_to_buf
#define git_diff_tree_to_index gitlib.git_diff_tree_to_index
#define git_diff_tree_to_tree gitlib.git_diff_tree_to_tree
#define git_diff_tree_to_workdir_with_index gitlib.git_diff_tree_to_workdir_with_index
#define git_error_last gitlib.git_error_last
#define git_ignore_path_is_ignored gitlib.git_ignore_path_is_ignored
#define git_index_add_all gitlib.git_index_add_all
#define git_index_add_bypath gitlib.git_index_add_bypath
#define git_index_find_prefix gitlib.git_index_find_prefix
#define git_index_get_bypath gitlib.git_index_get_bypath
#define git_index_has_conflicts gitlib.git_index_has_conflicts
#define git_index_open gitlib.git_index_open
#define git_index_remove_bypath gitlib.git_index_remove_bypath
#define git_index_update_all gitlib.git_index_update_all
#define git_index_write_tree gitlib.git_index_write_tree
#define git_libgit2_init gitlib.git_libgit2_init
#define git_libgit2_shutdown gitlib.git_libgit2_shutdown
#define git_object_peel gitlib.git_object_peel
#define git_odb_hash gitlib.git_odb_hash
#define git_oid_equal gitlib.git_oid_equal
#define git_oid_fromstr gitlib.git_oid_fromstr
#define git_oid_tostr gitlib.git_oid_tostr
#define git_reference_is_branch gitlib.git_reference_is_branch
#define git_reference_lookup gitlib.git_reference_lookup
#define git_reference_name_to_id gitlib.git_reference_name_to_id
#define git_reference_shorthand gitlib.git_reference_shorthand
#define git_reference_symbolic_target gitlib.git_reference_symbolic_target
#define git_reference_target gitlib.git_reference_target
#define git_repository_commondir gitlib.git_repository_commondir
#define git_repository_config_snapshot gitlib.git_repository_config_snapshot
#define git_repository_hashfile gitlib.git_repository_hashfile
#define git_repository_head gitlib.git_repository_head
#define git_repository_index gitlib.git_repository_index
#define git_repository_is_bare gitlib.git_repository_is_bare
#define git_repository_open gitlib.git_repository_open
#define git_repository_open_ext gitlib.git_repository_open_ext
#define git_repository_path gitlib.git_repository_path
#define git_repository_workdir gitlib.git_repository_workdir
#define git_revparse_single gitlib.git_revparse_single
#define git_signature_new gitlib.git_signature_new
#define git_status_byindex gitlib.git_status_byindex
#define git_status_list_entrycount gitlib.git_status_list_entrycount
#define git_status_list_new gitlib.git_status_list_new
#define git_status_options_init gitlib.git_status_options_init
#define git_tree_entry_bypath gitlib.git_tree_entry_bypath
#define git_tree_entry_id gitlib.git_tree_entry_id
#define git_tree_lookup gitlib.git_tree_lookup
#endif

#endif
