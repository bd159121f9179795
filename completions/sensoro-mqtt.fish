# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_sensoro_mqtt_global_optspecs
    string join \n h/help V/version
end

function __fish_sensoro_mqtt_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_sensoro_mqtt_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_sensoro_mqtt_using_subcommand
    set -l cmd (__fish_sensoro_mqtt_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_needs_command" -s h -l help -d 'Print help'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_needs_command" -s V -l version -d 'Print version'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_needs_command" -f -a "listen" -d 'Subscribe to users/<AppID>/devices and print every push'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_needs_command" -f -a "watch" -d 'A live dashboard of the app\'s devices: one row per device, alarms and silent ones marked'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_needs_command" -f -a "connect" -d 'Check credentials and connectivity step by step, and explain any refusal'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_needs_command" -f -a "validate-id" -d 'Check clientIds against the platform rule (for humans and CI)'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_needs_command" -f -a "profile" -d 'Manage stored credential profiles'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_needs_command" -f -a "decrypt" -d 'Decrypt safe-mode payloads: encryptData, a push, or an NDJSON stream'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_needs_command" -f -a "encrypt" -d 'Encrypt text or pushes the way the platform\'s safe mode does'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_needs_command" -f -a "relay" -d 'Deliver every push into your system (webhook, SQLite, PostgreSQL, a command), at least once'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_needs_command" -f -a "emulate" -d 'Run a local broker that behaves like the platform (offline development, demos, tests)'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_needs_command" -f -a "man" -d 'Print the manual page (roff): sensoro-mqtt man | man -l -'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand listen" -l app-id -d 'AppID (MQTT username) [env: SENSORO_APP_ID]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand listen" -l app-secret -d 'AppSecret (MQTT password); prefer SENSORO_APP_SECRET, a profile or the prompt' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand listen" -l app-key -d 'AppKey to decrypt safe-mode pushes [env: SENSORO_APP_KEY]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand listen" -l host -d 'Broker host from the platform\'s developer page [env: SENSORO_HOST]' -r -f -a "(__fish_print_hostnames)"
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand listen" -l port -d 'Broker port [env: SENSORO_PORT; default 1883]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand listen" -l ca-file -d 'CA bundle (PEM) to verify the broker\'s certificate with (implies --tls)' -r -F
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand listen" -l profile -d 'Take settings from this profile [env: SENSORO_PROFILE]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand listen" -l client-id -d 'The clientId [default: <AppID>/<suffix>]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand listen" -l qos -d 'Subscription QoS [default: the profile\'s qos, else 1]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand listen" -l topic -d 'Subscribe to this topic instead of users/<AppID>/devices' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand listen" -l clean -d 'Clean session; false with a fixed --client-id keeps QoS 1 pushes sent while away' -r -f -a "true\t''
false\t''"
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand listen" -l max-payload -d 'Largest push accepted (e.g. 512k, 16M; up to 255MiB); a bigger one stops listen' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand listen" -l format -d 'Output format [default: pretty on a terminal, json otherwise]' -r -f -a "pretty\t'For people: time, device, readings with units'
json\t'NDJSON, one push per line'
raw\t'The payload bytes as received'"
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand listen" -l color -d 'Colour in the pretty format (NO_COLOR is honoured)' -r -f -a "auto\t'On a terminal unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand listen" -l output -d 'Also append every push as NDJSON to FILE' -r -F
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand listen" -l count -d 'Stop after N pushes' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand listen" -l timeout -d 'Stop after DURATION (500ms, 30s, 2m); exit 124 if --count was not reached' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand listen" -l sn -d 'Only pushes from this device sn (repeatable)' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand listen" -l device-type -d 'Only this deviceType (repeatable)' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand listen" -l type -d 'Only this push type, e.g. text (repeatable)' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand listen" -l demo -d 'Listen to a built-in emulator (demo app, simulated devices): no credentials needed'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand listen" -l tls -d 'Connect with TLS (rustls; the system\'s root certificates unless --ca-file)'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand listen" -l compact -d 'Pretty format: one line per push'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand listen" -l wide -d 'Pretty format: never wrap or shorten'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand listen" -l envelope -d 'JSON lines become {received_at, topic, qos, retain, dup, push}'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand listen" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand listen" -s V -l version -d 'Print version'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand watch" -l app-id -d 'AppID (MQTT username) [env: SENSORO_APP_ID]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand watch" -l app-secret -d 'AppSecret (MQTT password); prefer SENSORO_APP_SECRET, a profile or the prompt' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand watch" -l app-key -d 'AppKey to decrypt safe-mode pushes [env: SENSORO_APP_KEY]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand watch" -l host -d 'Broker host from the platform\'s developer page [env: SENSORO_HOST]' -r -f -a "(__fish_print_hostnames)"
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand watch" -l port -d 'Broker port [env: SENSORO_PORT; default 1883]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand watch" -l ca-file -d 'CA bundle (PEM) to verify the broker\'s certificate with (implies --tls)' -r -F
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand watch" -l profile -d 'Take settings from this profile [env: SENSORO_PROFILE]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand watch" -l client-id -d 'The clientId [default: <AppID>/<suffix>]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand watch" -l qos -d 'Subscription QoS [default: the profile\'s qos, else 1]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand watch" -l topic -d 'Subscribe to this topic instead of users/<AppID>/devices' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand watch" -l clean -d 'Clean session; false with a fixed --client-id keeps QoS 1 pushes sent while away' -r -f -a "true\t''
false\t''"
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand watch" -l max-payload -d 'Largest push accepted (e.g. 512k, 16M; up to 255MiB); a bigger one stops watch' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand watch" -l color -d 'Colour (NO_COLOR is honoured)' -r -f -a "auto\t'On a terminal unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand watch" -l demo -d 'Watch a built-in emulator (demo app, one simulated device of each known type)'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand watch" -l tls -d 'Connect with TLS (rustls; the system\'s root certificates unless --ca-file)'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand watch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand watch" -s V -l version -d 'Print version'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand connect" -l app-id -d 'AppID (MQTT username) [env: SENSORO_APP_ID]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand connect" -l app-secret -d 'AppSecret (MQTT password); prefer SENSORO_APP_SECRET, a profile or the prompt' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand connect" -l app-key -d 'AppKey to decrypt safe-mode pushes [env: SENSORO_APP_KEY]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand connect" -l host -d 'Broker host from the platform\'s developer page [env: SENSORO_HOST]' -r -f -a "(__fish_print_hostnames)"
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand connect" -l port -d 'Broker port [env: SENSORO_PORT; default 1883]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand connect" -l ca-file -d 'CA bundle (PEM) to verify the broker\'s certificate with (implies --tls)' -r -F
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand connect" -l profile -d 'Take settings from this profile [env: SENSORO_PROFILE]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand connect" -l client-id -d 'The clientId [default: <AppID>/<suffix>]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand connect" -l qos -d 'Subscription QoS [default: the profile\'s qos, else 1]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand connect" -l topic -d 'Subscribe to this topic instead of users/<AppID>/devices' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand connect" -l timeout -d 'Bound on the whole check (500ms, 10s, 1m)' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand connect" -l save -d 'After a successful check, store these settings as profile NAME' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand connect" -l color -d 'Colour in the report (NO_COLOR is honoured)' -r -f -a "auto\t'On a terminal unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand connect" -l tls -d 'Connect with TLS (rustls; the system\'s root certificates unless --ca-file)'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand connect" -l json -d 'Print the report as one JSON object (for CI)'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand connect" -l force -d 'With --save: replace an existing profile of that name'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand connect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand connect" -s V -l version -d 'Print version'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand validate-id" -l app-id -d 'The AppID the ids must start with [env: SENSORO_APP_ID; else the profile\'s app_id]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand validate-id" -l profile -d 'Take the AppID from this profile [env: SENSORO_PROFILE]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand validate-id" -l json -d 'Print one JSON object per id (NDJSON)'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand validate-id" -s q -l quiet -d 'Print nothing; the exit status says whether all ids are valid'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand validate-id" -s h -l help -d 'Print help'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand validate-id" -s V -l version -d 'Print version'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and not __fish_seen_subcommand_from list show add remove default set help" -s h -l help -d 'Print help'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and not __fish_seen_subcommand_from list show add remove default set help" -s V -l version -d 'Print version'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and not __fish_seen_subcommand_from list show add remove default set help" -f -a "list" -d 'List stored profiles (the default one is marked with *)'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and not __fish_seen_subcommand_from list show add remove default set help" -f -a "show" -d 'Show one profile (the default one without NAME); secrets are masked'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and not __fish_seen_subcommand_from list show add remove default set help" -f -a "add" -d 'Store a new profile (or replace one with --force)'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and not __fish_seen_subcommand_from list show add remove default set help" -f -a "remove" -d 'Delete a profile'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and not __fish_seen_subcommand_from list show add remove default set help" -f -a "default" -d 'Make a profile the default'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and not __fish_seen_subcommand_from list show add remove default set help" -f -a "set" -d 'Change one field of a profile (checked as `add` checks it)'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and not __fish_seen_subcommand_from list show add remove default set help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from list" -l json -d 'Print a JSON array'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from show" -l json -d 'Print a JSON object'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from show" -l show-secrets -d 'Print AppSecret and AppKey in full instead of masked'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from add" -l app-id -d 'AppID (MQTT username)' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from add" -l app-secret -d 'AppSecret (MQTT password); better: SENSORO_APP_SECRET or the prompt on a terminal' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from add" -l app-key -d 'AppKey for safe mode (43 characters); better: SENSORO_APP_KEY or the prompt' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from add" -l host -d 'Broker host from the platform\'s developer page' -r -f -a "(__fish_print_hostnames)"
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from add" -l port -d 'Broker port [default when unset: 1883]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from add" -l ca-file -d 'CA bundle (PEM) for TLS' -r -F
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from add" -l qos -d 'Subscription QoS' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from add" -l client-suffix -d 'Fixed clientId suffix: the clientId becomes <AppID>/<SUFFIX>' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from add" -l tls -d 'Connect with TLS'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from add" -l default -d 'Make it the default profile'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from add" -l force -d 'Replace an existing profile of that name'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from default" -s h -l help -d 'Print help'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from default" -s V -l version -d 'Print version'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from set" -s V -l version -d 'Print version'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "list" -d 'List stored profiles (the default one is marked with *)'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one profile (the default one without NAME); secrets are masked'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "add" -d 'Store a new profile (or replace one with --force)'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Delete a profile'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "default" -d 'Make a profile the default'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "set" -d 'Change one field of a profile (checked as `add` checks it)'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand decrypt" -l app-key -d 'AppKey, the 43-character message encryption key [env: SENSORO_APP_KEY; else the profile\'s app_key]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand decrypt" -l app-id -d 'AppID sealed into every encryptData [env: SENSORO_APP_ID; else the profile\'s app_id; else a push\'s own appId]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand decrypt" -l profile -d 'Take values from this profile [env: SENSORO_PROFILE]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand decrypt" -l color -d 'Colour on a terminal (pushes are rendered for reading there; NO_COLOR is honoured)' -r -f -a "auto\t'On a terminal unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand decrypt" -l no-verify-app-id -d 'Do not check that the AppID sealed inside matches'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand decrypt" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand decrypt" -s V -l version -d 'Print version'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand encrypt" -l push -d 'Turn plain pushes (JSON, one per line) from FILE or \'-\' into safe-mode pushes' -r -F
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand encrypt" -l app-key -d 'AppKey, the 43-character message encryption key [env: SENSORO_APP_KEY; else the profile\'s app_key]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand encrypt" -l app-id -d 'AppID sealed into every encryptData [env: SENSORO_APP_ID; else the profile\'s app_id; else a push\'s own appId]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand encrypt" -l profile -d 'Take values from this profile [env: SENSORO_PROFILE]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand encrypt" -s h -l help -d 'Print help'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand encrypt" -s V -l version -d 'Print version'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand relay" -l app-id -d 'AppID (MQTT username) [env: SENSORO_APP_ID]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand relay" -l app-secret -d 'AppSecret (MQTT password); prefer SENSORO_APP_SECRET, a profile or the prompt' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand relay" -l app-key -d 'AppKey to decrypt safe-mode pushes [env: SENSORO_APP_KEY]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand relay" -l host -d 'Broker host from the platform\'s developer page [env: SENSORO_HOST]' -r -f -a "(__fish_print_hostnames)"
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand relay" -l port -d 'Broker port [env: SENSORO_PORT; default 1883]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand relay" -l ca-file -d 'CA bundle (PEM) to verify the broker\'s certificate with (implies --tls)' -r -F
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand relay" -l profile -d 'Take settings from this profile [env: SENSORO_PROFILE]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand relay" -l client-id -d 'The clientId [default: <AppID>/<suffix>]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand relay" -l qos -d 'Subscription QoS [default: the profile\'s qos, else 1]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand relay" -l topic -d 'Subscribe to this topic instead of users/<AppID>/devices' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand relay" -l max-payload -d 'Largest push accepted (e.g. 512k, 16M; up to 255MiB)' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand relay" -l to -d 'Where pushes go: sqlite:PATH, postgres://..., http(s)://..., exec:COMMAND (repeatable)' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand relay" -l dead-letter -d 'NDJSON file for pushes a target rejected for good (then acknowledged)' -r -F
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand relay" -l concurrency -d 'Webhook requests or commands at once, per target' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand relay" -l timeout -d 'Longest a webhook request or a command may take' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand relay" -l max-attempts -d 'Runs of a failing command per push before it goes to the dead letter' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand relay" -l give-up -d 'Stop with exit 7 after failing this long without committing anything [default: never]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand relay" -l batch-size -d 'Most pushes per batch (at most 3 batches in flight: committing, waiting, gathering) [default: 10000 when every target is a database, else 1000]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand relay" -l batch-age -d 'Longest a batch gathers while pushes keep coming' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand relay" -l demo -d 'Relay from a built-in emulator (demo app, simulated devices): no credentials needed'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand relay" -l tls -d 'Connect with TLS (rustls; the system\'s root certificates unless --ca-file)'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand relay" -s h -l help -d 'Print help'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand relay" -s V -l version -d 'Print version'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand emulate" -l app-id -d 'AppID of the app to serve (MQTT username, clientId prefix)' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand emulate" -l app-secret -d 'AppSecret of that app (MQTT password) [env: SENSORO_APP_SECRET]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand emulate" -l app-key -d 'AppKey of that app, for --safe-mode (43 characters) [env: SENSORO_APP_KEY]' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand emulate" -l app -d 'Another app as ID:SECRET[:KEY] (repeatable); each app sees only its own devices' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand emulate" -l publisher -d 'A credential that may PUBLISH pushes on app APPID\'s topic (repeatable): log in with username APPID, password SECRET and a clientId of the app; what it publishes on users/APPID/devices reaches the app\'s subscribers (e.g. with mosquitto_pub)' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand emulate" -l bind -d 'Address to listen on' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand emulate" -l port -d 'Port to listen on (0 picks a free one; the first line says which)' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand emulate" -l max-qos -d 'Highest QoS granted on SUBSCRIBE (the platform has no QoS 2)' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand emulate" -l drop-after -d 'Fault injection: close each connection after N pushes were sent to it' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand emulate" -l max-connections -d 'Most simultaneous connections; more get CONNACK 3 (server unavailable)' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand emulate" -l idle-timeout -d 'Close a connection that holds no subscription for this long (publishers: that neither subscribe nor publish)' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand emulate" -l devices -d 'Simulated devices, spread over the apps (0 for none)' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand emulate" -l interval -d 'Time between rounds of device pushes, or between replayed lines (0 for no pause)' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand emulate" -l seed -d 'Seed of the simulation: the same seed gives the same pushes' -r
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand emulate" -l replay -d 'Publish the pushes of FILE (NDJSON, one per line) instead of simulating; \'-\' (stdin), a FIFO or a device is streamed: each line is published as it arrives' -r -F
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand emulate" -l webhook -d 'Also POST each push to URL as the platform\'s webhook does (signed with the app\'s AppSecret; retried with backoff); URL for every app or APPID=URL for one (repeatable)' -r -f
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand emulate" -l scenario -d 'What the devices do: a built-in scenario (demo, alarms, stale, load) or a TOML file; --devices and --interval size the demo\'s fleet' -r -F
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand emulate" -l loop -d 'Start the replay again when it ends'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand emulate" -l safe-mode -d 'Send data encrypted as encryptData with each app\'s AppKey'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand emulate" -l list-scenarios -d 'Print the built-in scenarios, one line each, and exit'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand emulate" -s h -l help -d 'Print help'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand emulate" -s V -l version -d 'Print version'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand completions" -s h -l help -d 'Print help'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand completions" -s V -l version -d 'Print version'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand man" -s h -l help -d 'Print help'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand man" -s V -l version -d 'Print version'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand help; and not __fish_seen_subcommand_from listen watch connect validate-id profile decrypt encrypt relay emulate completions man help" -f -a "listen" -d 'Subscribe to users/<AppID>/devices and print every push'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand help; and not __fish_seen_subcommand_from listen watch connect validate-id profile decrypt encrypt relay emulate completions man help" -f -a "watch" -d 'A live dashboard of the app\'s devices: one row per device, alarms and silent ones marked'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand help; and not __fish_seen_subcommand_from listen watch connect validate-id profile decrypt encrypt relay emulate completions man help" -f -a "connect" -d 'Check credentials and connectivity step by step, and explain any refusal'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand help; and not __fish_seen_subcommand_from listen watch connect validate-id profile decrypt encrypt relay emulate completions man help" -f -a "validate-id" -d 'Check clientIds against the platform rule (for humans and CI)'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand help; and not __fish_seen_subcommand_from listen watch connect validate-id profile decrypt encrypt relay emulate completions man help" -f -a "profile" -d 'Manage stored credential profiles'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand help; and not __fish_seen_subcommand_from listen watch connect validate-id profile decrypt encrypt relay emulate completions man help" -f -a "decrypt" -d 'Decrypt safe-mode payloads: encryptData, a push, or an NDJSON stream'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand help; and not __fish_seen_subcommand_from listen watch connect validate-id profile decrypt encrypt relay emulate completions man help" -f -a "encrypt" -d 'Encrypt text or pushes the way the platform\'s safe mode does'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand help; and not __fish_seen_subcommand_from listen watch connect validate-id profile decrypt encrypt relay emulate completions man help" -f -a "relay" -d 'Deliver every push into your system (webhook, SQLite, PostgreSQL, a command), at least once'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand help; and not __fish_seen_subcommand_from listen watch connect validate-id profile decrypt encrypt relay emulate completions man help" -f -a "emulate" -d 'Run a local broker that behaves like the platform (offline development, demos, tests)'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand help; and not __fish_seen_subcommand_from listen watch connect validate-id profile decrypt encrypt relay emulate completions man help" -f -a "completions" -d 'Print a shell completion script'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand help; and not __fish_seen_subcommand_from listen watch connect validate-id profile decrypt encrypt relay emulate completions man help" -f -a "man" -d 'Print the manual page (roff): sensoro-mqtt man | man -l -'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand help; and not __fish_seen_subcommand_from listen watch connect validate-id profile decrypt encrypt relay emulate completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "list" -d 'List stored profiles (the default one is marked with *)'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "show" -d 'Show one profile (the default one without NAME); secrets are masked'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "add" -d 'Store a new profile (or replace one with --force)'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "remove" -d 'Delete a profile'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "default" -d 'Make a profile the default'
complete -c sensoro-mqtt -n "__fish_sensoro_mqtt_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "set" -d 'Change one field of a profile (checked as `add` checks it)'
