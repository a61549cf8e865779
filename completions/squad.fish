# fish completion for squad.
#
# Load it in the current shell:  squad completion fish | source
# or for every shell:  squad completion fish > ~/.config/fish/completions/squad.fish
#
# Completes subcommands, options and their values, and task names, which
# come from 'squad list --names' run on the Squadfile that the command
# line being completed reads (its -f FILE and -C DIR).

# The words before the cursor, the command first.
function __squad_tokens
    commandline -opc
end

# The subcommand: the first word that is neither an option nor the value
# of one (squad takes options anywhere on the line); fails when none.
function __squad_subcommand
    set -l tokens (__squad_tokens)
    set -e tokens[1]
    set -l skip 0
    for token in $tokens
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $token
            case -f --file -C --directory -j --jobs --worker --color --output --junit --shard --shards -o --output-file --note --note-file --target
                set skip 1
            case '-*'
            case '*'
                echo $token
                return 0
        end
    end
    return 1
end

function __squad_subcommand_is
    contains -- (__squad_subcommand) $argv
end

# How many words follow the subcommand.
function __squad_arguments
    set -l tokens (__squad_tokens)
    set -e tokens[1]
    set -l skip 0
    set -l seen 0
    for token in $tokens
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $token
            case -f --file -C --directory -j --jobs --worker --color --output --junit --shard --shards -o --output-file --note --note-file --target
                set skip 1
            case '-*'
            case '*'
                set seen (math $seen + 1)
        end
    end
    math "max(0, $seen - 1)"
end

# Where task names are wanted: before any subcommand (squad TASK), after
# run and graph (and a task: more of them), and as the one argument of
# explain, done, diff and apply.
function __squad_wants_task
    set -l sub (__squad_subcommand)
    or return 0
    switch $sub
        case list handoff hook init completion exec mcp
            return 1
        case explain done diff apply
            test (__squad_arguments) -eq 0
        case ci
            test (__squad_arguments) -ge 1
        case '*'
            return 0
    end
end

# The task names of the Squadfile the words so far point squad at.
function __squad_tasks
    set -l tokens (__squad_tokens)
    set -l cmd (string replace -r '^~(?=/|$)' $HOME -- $tokens[1])
    set -l count (count $tokens)
    set -l i 2
    while test $i -le $count
        switch $tokens[$i]
            case -f --file -C --directory
                if test $i -lt $count
                    set -a cmd $tokens[$i] (string replace -r '^~(?=/|$)' $HOME -- $tokens[(math $i + 1)])
                end
                set i (math $i + 1)
            case '--file=*' '--directory=*' '-f?*' '-C?*'
                set -a cmd $tokens[$i]
        end
        set i (math $i + 1)
    end
    command $cmd list --names 2>/dev/null </dev/null
end

complete -c squad -f

# subcommands
complete -c squad -n 'not __squad_subcommand' -a run -d 'Run TARGETs (for a task named like a subcommand)'
complete -c squad -n 'not __squad_subcommand' -a list -d 'The tasks, with descriptions, needs and skills'
complete -c squad -n 'not __squad_subcommand' -a graph -d 'The graph as DOT'
complete -c squad -n 'not __squad_subcommand' -a handoff -d 'What waits for the tactician'
complete -c squad -n 'not __squad_subcommand' -a done -d "Record the tactician's result for a task"
complete -c squad -n 'not __squad_subcommand' -a hook -d 'Install or remove the git pre-commit hook'
complete -c squad -n 'not __squad_subcommand' -a init -d 'Write a starter Squadfile'
complete -c squad -n 'not __squad_subcommand' -a completion -d 'Print a completion script'
complete -c squad -n 'not __squad_subcommand' -a explain -d "Why a task will or won't run"
complete -c squad -n 'not __squad_subcommand' -a exec -d 'Run ad-hoc tasks (--run, --prompt, or a list on stdin)'
complete -c squad -n 'not __squad_subcommand' -a mcp -d 'Serve squad as MCP tools on stdio (Claude Code)'
complete -c squad -n 'not __squad_subcommand' -a ci -d 'A CI workflow for GitHub Actions or GitLab CI'
complete -c squad -n 'not __squad_subcommand' -a diff -d "The change an isolated task left, as a patch"
complete -c squad -n 'not __squad_subcommand' -a apply -d "Apply an isolated task's kept change to your tree"

# task names
complete -c squad -n __squad_wants_task -a '(__squad_tasks)' -d Task
complete -c squad -n '__squad_subcommand_is hook; and test (__squad_arguments) -eq 0' -a 'install uninstall'
complete -c squad -n '__squad_subcommand_is completion; and test (__squad_arguments) -eq 0' -a 'bash zsh fish'
complete -c squad -n '__squad_subcommand_is ci; and test (__squad_arguments) -eq 0' -a 'github gitlab'

# options
complete -c squad -s f -l file -r -F -d 'Read FILE instead of ./Squadfile'
complete -c squad -s C -l directory -x -a '(__fish_complete_directories)' -d 'Change to DIR first'
complete -c squad -s j -l jobs -x -d 'Run at most N tasks at once'
complete -c squad -s k -l keep-going -d 'After a failure, go on with every task not behind it'
complete -c squad -s n -l dry-run -d "Print the order and each task's worker; run nothing"
complete -c squad -s q -l quiet -d 'Print only failures and the summary'
complete -c squad -s v -l verbose -d 'Print each command as it starts'
complete -c squad -l staged -d 'Run only tasks whose inputs match paths staged for commit'
complete -c squad -l changed -d 'Run only tasks whose inputs differ from REF (--changed=REF, default HEAD)'
complete -c squad -s B -l force -d 'Run every task, even those up to date'
complete -c squad -l replay -d 'Print the last output of tasks that are up to date'
complete -c squad -l cache-write -d 'Store results in the shared cache too'
complete -c squad -l no-wait -d 'When another squad runs here, exit 1 instead of waiting'
complete -c squad -l stash -d 'Run on exactly what is staged: set unstaged changes and untracked files aside'
complete -c squad -l json -d 'Events as JSON lines on stdout (--json=output: with task output)'
complete -c squad -l junit -r -F -d 'Also write a JUnit XML report to FILE'
complete -c squad -l shard -x -d 'Run shard K/N of the selected tasks'
complete -c squad -l output -x -a 'grouped prefixed failed quiet' -d 'How the output of tasks is shown'
complete -c squad -l format -x -a 'dot mermaid' -d 'squad graph: the format of the graph'
complete -c squad -l worker -x -d 'Run every skill-free task on worker NAME'
complete -c squad -l strict-skills -d 'A skill without a SKILL.md is an error, not a warning'
complete -c squad -l color -x -a 'auto always never' -d 'When to use colour'
complete -c squad -s h -l help -d 'Print the help'
complete -c squad -l version -d 'Print the version'
complete -c squad -n '__squad_subcommand_is exec' -l run -x -d 'exec: an ad-hoc task, a shell command'
complete -c squad -n '__squad_subcommand_is exec' -l prompt -x -d 'exec: an ad-hoc task, a prompt for an agent'
complete -c squad -n '__squad_subcommand_is exec' -l name -x -d 'exec: the name of the next --run or --prompt'
complete -c squad -n '__squad_subcommand_is list' -l names -d 'Print the task names only'
complete -c squad -n '__squad_subcommand_is done' -l failed -d 'Record the task as failed'
complete -c squad -n '__squad_subcommand_is done' -l note -x -d "The tactician's note"
complete -c squad -n '__squad_subcommand_is done' -l note-file -r -F -d 'Read the note from FILE'
complete -c squad -n '__squad_subcommand_is done' -l undo -d 'Take back the mark on the task'
complete -c squad -n '__squad_subcommand_is handoff' -l merge -F -d "Merge the shards' manifests (FILE...)"
complete -c squad -n '__squad_subcommand_is diff' -l exec -x -d 'The change of a task of that squad exec run (ID)'
complete -c squad -n '__squad_subcommand_is apply' -l exec -x -d 'The change of a task of that squad exec run (ID)'
complete -c squad -n '__squad_subcommand_is ci' -l shards -x -d 'N jobs of squad --shard K/N'
complete -c squad -n '__squad_subcommand_is ci' -s o -l output-file -r -F -d 'Write the workflow to FILE'
complete -c squad -n '__squad_subcommand_is hook' -l target -x -a '(__squad_tasks)' -d 'The target the hook runs'
