/* gitlib.c - libgit2 opened on first use; see gitlib.h. */
#define GITLIB_NO_NAMES
#include "files/gitlib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

#include "util/xalloc.h"

struct gitlib gitlib;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char *load_error; /* NULL once loaded; dlerror()'s words else */

static void load(void)
{
	struct gitlib found;
	void *h;

	/* RTLD_LOCAL: its symbols (mbedTLS's among them) stay its own */
	h = dlopen(SQUAD_LIBGIT2_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *why = dlerror();

		load_error = xstrdup(why ? why : "unknown error");
		return;
	}
#define FIND(name) \
	if (!(*(void **)&found.name = dlsym(h, #name))) { \
		load_error = xstrdup("no " #name " in it (another version?)"); \
		dlclose(h); \
		return; \
	}
	GITLIB_FREE_FUNCTIONS(FIND)
	GITLIB_FUNCTIONS(FIND)
#undef FIND
	/* all at once: until then every pointer stays NULL, and the frees
	 * do nothing. The handle is kept: libgit2 stays for the process. */
	gitlib = found;
}

int gitlib_load(struct strbuf *err)
{
	pthread_once(&load_once, load);
	if (!load_error)
		return 0;
	strbuf_addf(err, "cannot load libgit2 (%s): %s", SQUAD_LIBGIT2_SONAME, load_error);
	return -1;
}
