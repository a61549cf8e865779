/* mcp.h - `squad mcp`: a Model Context Protocol server over stdio.
 *
 * The tactician (Claude Code, or any MCP client) starts `squad mcp` in
 * the project's folder and talks JSON-RPC 2.0 to it, one message per
 * line on stdin and stdout (jsonrpc.h). squad answers initialize (the
 * protocol version negotiated as the MCP specification says: the
 * client's when squad knows it, else squad's newest), tools/list, ping
 * and tools/call; every other request gets "method not found".
 *
 * The tools (their input schemas are in mcp.c and in tools/list):
 *   list      the Squadfile's tasks: needs, skills, worker, kind, inputs
 *   graph     the task graph as Mermaid or DOT, for some targets or all
 *   explain   why a task will or will not run
 *   run       run targets; the result is the run's --json events folded
 *             into one object: every task's finish, counts, hand-off
 *   exec      ad-hoc tasks in the Squadfile's task grammar (squad exec)
 *   handoff   the hand-off manifest: what waits for the tactician
 *   done      record the tactician's result for a task (squad done)
 *   status    the tool calls this server is running now, with progress
 *
 * Each call that does work runs squad itself as a child (`squad --json
 * run ...`, `squad exec --json`, `squad list --json`, ...), started
 * through spawner.h (vfork) in a process group of its own without a
 * controlling terminal, so several calls run at once and none of them
 * shares state with the server. While a run or an exec goes on,
 * each task that finishes becomes a notifications/progress message when
 * the client sent a progressToken. notifications/cancelled for a call
 * sends SIGTERM to its child's group (squad then stops its tasks and
 * records them as interrupted, as after Ctrl-C), SIGKILL 10 s later if
 * it is still there; a cancelled call gets no response, as the
 * specification asks. When stdin ends (the client went away) or squad
 * mcp gets SIGTERM, SIGINT or SIGHUP (stdin still open or not), every
 * child is stopped the same way and the server exits once they are
 * gone: nothing is left behind.
 *
 * Results are bounded: no string longer than MCP_STRING_MAX, at most
 * MCP_RESULT_MAX bytes in all (the tasks that went well are left out
 * first, and counted); every task keeps its log path for the rest.
 * A tool whose squad refused the call (exit code 2: an unknown task, a
 * bad Squadfile) or could not start answers with isError and squad's
 * messages; failed tasks are a result, not an error.
 */
#ifndef SQUAD_MCP_H
#define SQUAD_MCP_H

#include <stdbool.h>

/* Bounds of what one tool result holds. */
#define MCP_STRING_MAX 4000
#define MCP_RESULT_MAX (96 * 1024)

struct mcp_options {
	const char *file;     /* -f FILE, or NULL: the children find ./Squadfile */
	const char *self;     /* the squad binary to run as children */
	const char *version;  /* squad's version, for serverInfo */
};

/* Serve on stdin/stdout until stdin ends or a signal stops the server.
 * Diagnostics go to stderr (stdout is the protocol's). Returns the exit
 * code: 0 after a clean end, 1 when the server could not start. */
int mcp_main(const struct mcp_options *mo);

#endif
