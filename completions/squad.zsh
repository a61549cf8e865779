#compdef squad
# zsh completion for squad.
#
# Load it in the current shell (after compinit):  source <(squad completion zsh)
# or for every shell, as _squad in a folder of $fpath:
#   squad completion zsh > ~/.zfunc/_squad    # with fpath=(~/.zfunc $fpath)
#
# Completes subcommands, options and their values, and task names, which
# come from 'squad list --names' run on the Squadfile that the command
# line being completed reads (its -f FILE and -C DIR).

# The task names, from the Squadfile the options so far point squad at.
(( $+functions[_squad_tasks] )) ||
_squad_tasks() {
  local -a cmd tasks expl
  local file=${opt_args[-f]:-${opt_args[--file]}}
  local dir=${opt_args[-C]:-${opt_args[--directory]}}

  cmd=(${words[1]/#\~/$HOME})
  # opt_args holds the values as typed, quoting included
  [[ -n $dir ]] && cmd+=(-C ${${(Q)dir}/#\~/$HOME})
  [[ -n $file ]] && cmd+=(-f ${${(Q)file}/#\~/$HOME})
  tasks=(${(f)"$($cmd list --names 2>/dev/null </dev/null)"})
  _wanted tasks expl 'task' compadd -a - tasks
}

(( $+functions[_squad_refs] )) ||
_squad_refs() {
  local -a refs expl
  refs=(HEAD ${(f)"$(git for-each-ref --format='%(refname:short)' \
    refs/heads refs/tags refs/remotes 2>/dev/null)"})
  _wanted refs expl 'git revision' compadd -a - refs
}

_squad() {
  local curcontext=$curcontext state state_descr line ret=1
  local -A opt_args
  local -a subcommands expl

  # squad reads options anywhere on the line, so they complete anywhere
  _arguments -C -s -S \
    '(-f --file)'{-f+,--file=}'[read FILE instead of ./Squadfile]:Squadfile:_files' \
    '(-C --directory)'{-C+,--directory=}'[change to DIR first]:folder:_directories' \
    '(-j --jobs)'{-j+,--jobs=}'[run at most N tasks at once]:number of tasks at once' \
    '(-k --keep-going)'{-k,--keep-going}'[after a failure, go on with every task not behind it]' \
    '(-n --dry-run)'{-n,--dry-run}"[print the order and each task's worker; run nothing]" \
    '(-q --quiet -v --verbose)'{-q,--quiet}'[print only failures and the summary]' \
    '(-q --quiet -v --verbose)'{-v,--verbose}'[print each command as it starts]' \
    '(--changed)--staged[run only tasks whose inputs match paths staged for commit]' \
    '(--staged)--changed=-[run only tasks whose inputs differ from REF (default HEAD)]::git revision:_squad_refs' \
    '(-B --force)'{-B,--force}'[run every task, even those up to date]' \
    '--replay[print the last output of tasks that are up to date]' \
    '--cache-write[store results in the shared cache too]' \
    '--no-wait[when another squad runs here, exit 1 instead of waiting]' \
    '--stash[run on exactly what is staged: set unstaged changes and untracked files aside]' \
    '--json=-[events as JSON lines on stdout]::with:(output)' \
    '--junit=[also write a JUnit XML report to FILE]:JUnit report:_files' \
    '--shard=[run shard K of N of the selected tasks]:K/N' \
    "--merge[handoff: merge the shards' manifests]" \
    '--exec=[diff, apply: a task of that squad exec run]:squad exec run ID' \
    '--shards=[ci: N jobs of squad --shard K/N]:number of shards' \
    '(-o --output-file)'{-o+,--output-file=}'[ci: write the workflow to FILE]:workflow file:_files' \
    '--output=[how the output of tasks is shown]:output:(grouped prefixed failed quiet)' \
    '--format=[squad graph: the format of the graph]:format:(dot mermaid)' \
    '--worker=[run every skill-free task on worker NAME]:worker' \
    '--strict-skills[a skill without a SKILL.md is an error, not a warning]' \
    '--color=[when to use colour]:when:(auto always never)' \
    '--names[list: print the task names only]' \
    '--failed[done: record the task as failed]' \
    "--note=[done: the tactician's note]:note" \
    '--note-file=[done: read the note from FILE]:note file:_files' \
    '--undo[done: take back the mark on the task]' \
    '--target=[hook install: the target the hook runs]:task:_squad_tasks' \
    '*--run=[exec: an ad-hoc task, a shell command]:command' \
    '*--prompt=[exec: an ad-hoc task, a prompt for an agent]:prompt' \
    '*--name=[exec: the name of the next --run or --prompt]:name' \
    '(- *)'{-h,--help}'[print the help]' \
    '(- *)--version[print the version]' \
    '1: :->first' \
    '*: :->rest' && ret=0

  case $state in
    (first)
      subcommands=(
        'run:run TARGETs (for a task named like a subcommand)'
        'list:the tasks, with their descriptions, needs and skills'
        'graph:the graph as DOT'
        'handoff:what waits for the tactician'
        "done:record the tactician's result for a task"
        'hook:install or remove the git pre-commit hook'
        'init:write a starter Squadfile'
        'completion:print a completion script'
        "explain:why a task will or won't run"
        'exec:run ad-hoc tasks (--run, --prompt, or a list on stdin)'
        'mcp:serve squad as MCP tools on stdio (Claude Code)'
        'ci:a CI workflow for GitHub Actions or GitLab CI'
        'diff:the change an isolated task left, as a patch'
        "apply:apply an isolated task's kept change to your tree"
      )
      _describe -t subcommands 'subcommand' subcommands && ret=0
      _squad_tasks && ret=0
      ;;
    (rest)
      case $line[1] in
        (hook) [[ ${#line} -le 2 ]] &&
          _wanted actions expl 'action' compadd install uninstall && ret=0 ;;
        (completion) [[ ${#line} -le 2 ]] &&
          _wanted shells expl 'shell' compadd bash zsh fish && ret=0 ;;
        (explain|done|diff|apply) [[ ${#line} -le 2 ]] && _squad_tasks && ret=0 ;;
        (ci) if [[ ${#line} -le 2 ]]; then
          _wanted engines expl 'CI engine' compadd github gitlab && ret=0
        else
          _squad_tasks && ret=0
        fi ;;
        (handoff) _files && ret=0 ;;
        (list|init|exec|mcp) ;;
        (*) _squad_tasks && ret=0 ;;
      esac
      ;;
  esac
  return ret
}

# autoloaded from $fpath: complete now; sourced: register
if [[ $funcstack[1] == _squad ]]; then
  _squad "$@"
else
  compdef _squad squad
fi
