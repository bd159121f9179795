
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'sensoro-mqtt' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'sensoro-mqtt'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'sensoro-mqtt' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('listen', 'listen', [CompletionResultType]::ParameterValue, 'Subscribe to users/<AppID>/devices and print every push')
            [CompletionResult]::new('watch', 'watch', [CompletionResultType]::ParameterValue, 'A live dashboard of the app''s devices: one row per device, alarms and silent ones marked')
            [CompletionResult]::new('connect', 'connect', [CompletionResultType]::ParameterValue, 'Check credentials and connectivity step by step, and explain any refusal')
            [CompletionResult]::new('validate-id', 'validate-id', [CompletionResultType]::ParameterValue, 'Check clientIds against the platform rule (for humans and CI)')
            [CompletionResult]::new('profile', 'profile', [CompletionResultType]::ParameterValue, 'Manage stored credential profiles')
            [CompletionResult]::new('decrypt', 'decrypt', [CompletionResultType]::ParameterValue, 'Decrypt safe-mode payloads: encryptData, a push, or an NDJSON stream')
            [CompletionResult]::new('encrypt', 'encrypt', [CompletionResultType]::ParameterValue, 'Encrypt text or pushes the way the platform''s safe mode does')
            [CompletionResult]::new('relay', 'relay', [CompletionResultType]::ParameterValue, 'Deliver every push into your system (webhook, SQLite, PostgreSQL, a command), at least once')
            [CompletionResult]::new('emulate', 'emulate', [CompletionResultType]::ParameterValue, 'Run a local broker that behaves like the platform (offline development, demos, tests)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the manual page (roff): sensoro-mqtt man | man -l -')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sensoro-mqtt;listen' {
            [CompletionResult]::new('--app-id', '--app-id', [CompletionResultType]::ParameterName, 'AppID (MQTT username) [env: SENSORO_APP_ID]')
            [CompletionResult]::new('--app-secret', '--app-secret', [CompletionResultType]::ParameterName, 'AppSecret (MQTT password); prefer SENSORO_APP_SECRET, a profile or the prompt')
            [CompletionResult]::new('--app-key', '--app-key', [CompletionResultType]::ParameterName, 'AppKey to decrypt safe-mode pushes [env: SENSORO_APP_KEY]')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Broker host from the platform''s developer page [env: SENSORO_HOST]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Broker port [env: SENSORO_PORT; default 1883]')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'CA bundle (PEM) to verify the broker''s certificate with (implies --tls)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Take settings from this profile [env: SENSORO_PROFILE]')
            [CompletionResult]::new('--client-id', '--client-id', [CompletionResultType]::ParameterName, 'The clientId [default: <AppID>/<suffix>]')
            [CompletionResult]::new('--qos', '--qos', [CompletionResultType]::ParameterName, 'Subscription QoS [default: the profile''s qos, else 1]')
            [CompletionResult]::new('--topic', '--topic', [CompletionResultType]::ParameterName, 'Subscribe to this topic instead of users/<AppID>/devices')
            [CompletionResult]::new('--clean', '--clean', [CompletionResultType]::ParameterName, 'Clean session; false with a fixed --client-id keeps QoS 1 pushes sent while away')
            [CompletionResult]::new('--max-payload', '--max-payload', [CompletionResultType]::ParameterName, 'Largest push accepted (e.g. 512k, 16M; up to 255MiB); a bigger one stops listen')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format [default: pretty on a terminal, json otherwise]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in the pretty format (NO_COLOR is honoured)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Also append every push as NDJSON to FILE')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Stop after N pushes')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Stop after DURATION (500ms, 30s, 2m); exit 124 if --count was not reached')
            [CompletionResult]::new('--sn', '--sn', [CompletionResultType]::ParameterName, 'Only pushes from this device sn (repeatable)')
            [CompletionResult]::new('--device-type', '--device-type', [CompletionResultType]::ParameterName, 'Only this deviceType (repeatable)')
            [CompletionResult]::new('--type', '--type', [CompletionResultType]::ParameterName, 'Only this push type, e.g. text (repeatable)')
            [CompletionResult]::new('--demo', '--demo', [CompletionResultType]::ParameterName, 'Listen to a built-in emulator (demo app, simulated devices): no credentials needed')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connect with TLS (rustls; the system''s root certificates unless --ca-file)')
            [CompletionResult]::new('--compact', '--compact', [CompletionResultType]::ParameterName, 'Pretty format: one line per push')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Pretty format: never wrap or shorten')
            [CompletionResult]::new('--envelope', '--envelope', [CompletionResultType]::ParameterName, 'JSON lines become {received_at, topic, qos, retain, dup, push}')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sensoro-mqtt;watch' {
            [CompletionResult]::new('--app-id', '--app-id', [CompletionResultType]::ParameterName, 'AppID (MQTT username) [env: SENSORO_APP_ID]')
            [CompletionResult]::new('--app-secret', '--app-secret', [CompletionResultType]::ParameterName, 'AppSecret (MQTT password); prefer SENSORO_APP_SECRET, a profile or the prompt')
            [CompletionResult]::new('--app-key', '--app-key', [CompletionResultType]::ParameterName, 'AppKey to decrypt safe-mode pushes [env: SENSORO_APP_KEY]')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Broker host from the platform''s developer page [env: SENSORO_HOST]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Broker port [env: SENSORO_PORT; default 1883]')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'CA bundle (PEM) to verify the broker''s certificate with (implies --tls)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Take settings from this profile [env: SENSORO_PROFILE]')
            [CompletionResult]::new('--client-id', '--client-id', [CompletionResultType]::ParameterName, 'The clientId [default: <AppID>/<suffix>]')
            [CompletionResult]::new('--qos', '--qos', [CompletionResultType]::ParameterName, 'Subscription QoS [default: the profile''s qos, else 1]')
            [CompletionResult]::new('--topic', '--topic', [CompletionResultType]::ParameterName, 'Subscribe to this topic instead of users/<AppID>/devices')
            [CompletionResult]::new('--clean', '--clean', [CompletionResultType]::ParameterName, 'Clean session; false with a fixed --client-id keeps QoS 1 pushes sent while away')
            [CompletionResult]::new('--max-payload', '--max-payload', [CompletionResultType]::ParameterName, 'Largest push accepted (e.g. 512k, 16M; up to 255MiB); a bigger one stops watch')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour (NO_COLOR is honoured)')
            [CompletionResult]::new('--demo', '--demo', [CompletionResultType]::ParameterName, 'Watch a built-in emulator (demo app, one simulated device of each known type)')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connect with TLS (rustls; the system''s root certificates unless --ca-file)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sensoro-mqtt;connect' {
            [CompletionResult]::new('--app-id', '--app-id', [CompletionResultType]::ParameterName, 'AppID (MQTT username) [env: SENSORO_APP_ID]')
            [CompletionResult]::new('--app-secret', '--app-secret', [CompletionResultType]::ParameterName, 'AppSecret (MQTT password); prefer SENSORO_APP_SECRET, a profile or the prompt')
            [CompletionResult]::new('--app-key', '--app-key', [CompletionResultType]::ParameterName, 'AppKey to decrypt safe-mode pushes [env: SENSORO_APP_KEY]')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Broker host from the platform''s developer page [env: SENSORO_HOST]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Broker port [env: SENSORO_PORT; default 1883]')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'CA bundle (PEM) to verify the broker''s certificate with (implies --tls)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Take settings from this profile [env: SENSORO_PROFILE]')
            [CompletionResult]::new('--client-id', '--client-id', [CompletionResultType]::ParameterName, 'The clientId [default: <AppID>/<suffix>]')
            [CompletionResult]::new('--qos', '--qos', [CompletionResultType]::ParameterName, 'Subscription QoS [default: the profile''s qos, else 1]')
            [CompletionResult]::new('--topic', '--topic', [CompletionResultType]::ParameterName, 'Subscribe to this topic instead of users/<AppID>/devices')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Bound on the whole check (500ms, 10s, 1m)')
            [CompletionResult]::new('--save', '--save', [CompletionResultType]::ParameterName, 'After a successful check, store these settings as profile NAME')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in the report (NO_COLOR is honoured)')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connect with TLS (rustls; the system''s root certificates unless --ca-file)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the report as one JSON object (for CI)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'With --save: replace an existing profile of that name')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sensoro-mqtt;validate-id' {
            [CompletionResult]::new('--app-id', '--app-id', [CompletionResultType]::ParameterName, 'The AppID the ids must start with [env: SENSORO_APP_ID; else the profile''s app_id]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Take the AppID from this profile [env: SENSORO_PROFILE]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object per id (NDJSON)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing; the exit status says whether all ids are valid')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing; the exit status says whether all ids are valid')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sensoro-mqtt;profile' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List stored profiles (the default one is marked with *)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one profile (the default one without NAME); secrets are masked')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Store a new profile (or replace one with --force)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Delete a profile')
            [CompletionResult]::new('default', 'default', [CompletionResultType]::ParameterValue, 'Make a profile the default')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Change one field of a profile (checked as `add` checks it)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sensoro-mqtt;profile;list' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON array')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sensoro-mqtt;profile;show' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON object')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Print AppSecret and AppKey in full instead of masked')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sensoro-mqtt;profile;add' {
            [CompletionResult]::new('--app-id', '--app-id', [CompletionResultType]::ParameterName, 'AppID (MQTT username)')
            [CompletionResult]::new('--app-secret', '--app-secret', [CompletionResultType]::ParameterName, 'AppSecret (MQTT password); better: SENSORO_APP_SECRET or the prompt on a terminal')
            [CompletionResult]::new('--app-key', '--app-key', [CompletionResultType]::ParameterName, 'AppKey for safe mode (43 characters); better: SENSORO_APP_KEY or the prompt')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Broker host from the platform''s developer page')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Broker port [default when unset: 1883]')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'CA bundle (PEM) for TLS')
            [CompletionResult]::new('--qos', '--qos', [CompletionResultType]::ParameterName, 'Subscription QoS')
            [CompletionResult]::new('--client-suffix', '--client-suffix', [CompletionResultType]::ParameterName, 'Fixed clientId suffix: the clientId becomes <AppID>/<SUFFIX>')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connect with TLS')
            [CompletionResult]::new('--default', '--default', [CompletionResultType]::ParameterName, 'Make it the default profile')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace an existing profile of that name')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sensoro-mqtt;profile;remove' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sensoro-mqtt;profile;default' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sensoro-mqtt;profile;set' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sensoro-mqtt;profile;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List stored profiles (the default one is marked with *)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one profile (the default one without NAME); secrets are masked')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Store a new profile (or replace one with --force)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Delete a profile')
            [CompletionResult]::new('default', 'default', [CompletionResultType]::ParameterValue, 'Make a profile the default')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Change one field of a profile (checked as `add` checks it)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sensoro-mqtt;profile;help;list' {
            break
        }
        'sensoro-mqtt;profile;help;show' {
            break
        }
        'sensoro-mqtt;profile;help;add' {
            break
        }
        'sensoro-mqtt;profile;help;remove' {
            break
        }
        'sensoro-mqtt;profile;help;default' {
            break
        }
        'sensoro-mqtt;profile;help;set' {
            break
        }
        'sensoro-mqtt;profile;help;help' {
            break
        }
        'sensoro-mqtt;decrypt' {
            [CompletionResult]::new('--app-key', '--app-key', [CompletionResultType]::ParameterName, 'AppKey, the 43-character message encryption key [env: SENSORO_APP_KEY; else the profile''s app_key]')
            [CompletionResult]::new('--app-id', '--app-id', [CompletionResultType]::ParameterName, 'AppID sealed into every encryptData [env: SENSORO_APP_ID; else the profile''s app_id; else a push''s own appId]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Take values from this profile [env: SENSORO_PROFILE]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour on a terminal (pushes are rendered for reading there; NO_COLOR is honoured)')
            [CompletionResult]::new('--no-verify-app-id', '--no-verify-app-id', [CompletionResultType]::ParameterName, 'Do not check that the AppID sealed inside matches')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sensoro-mqtt;encrypt' {
            [CompletionResult]::new('--push', '--push', [CompletionResultType]::ParameterName, 'Turn plain pushes (JSON, one per line) from FILE or ''-'' into safe-mode pushes')
            [CompletionResult]::new('--app-key', '--app-key', [CompletionResultType]::ParameterName, 'AppKey, the 43-character message encryption key [env: SENSORO_APP_KEY; else the profile''s app_key]')
            [CompletionResult]::new('--app-id', '--app-id', [CompletionResultType]::ParameterName, 'AppID sealed into every encryptData [env: SENSORO_APP_ID; else the profile''s app_id; else a push''s own appId]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Take values from this profile [env: SENSORO_PROFILE]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sensoro-mqtt;relay' {
            [CompletionResult]::new('--app-id', '--app-id', [CompletionResultType]::ParameterName, 'AppID (MQTT username) [env: SENSORO_APP_ID]')
            [CompletionResult]::new('--app-secret', '--app-secret', [CompletionResultType]::ParameterName, 'AppSecret (MQTT password); prefer SENSORO_APP_SECRET, a profile or the prompt')
            [CompletionResult]::new('--app-key', '--app-key', [CompletionResultType]::ParameterName, 'AppKey to decrypt safe-mode pushes [env: SENSORO_APP_KEY]')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Broker host from the platform''s developer page [env: SENSORO_HOST]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Broker port [env: SENSORO_PORT; default 1883]')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'CA bundle (PEM) to verify the broker''s certificate with (implies --tls)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Take settings from this profile [env: SENSORO_PROFILE]')
            [CompletionResult]::new('--client-id', '--client-id', [CompletionResultType]::ParameterName, 'The clientId [default: <AppID>/<suffix>]')
            [CompletionResult]::new('--qos', '--qos', [CompletionResultType]::ParameterName, 'Subscription QoS [default: the profile''s qos, else 1]')
            [CompletionResult]::new('--topic', '--topic', [CompletionResultType]::ParameterName, 'Subscribe to this topic instead of users/<AppID>/devices')
            [CompletionResult]::new('--max-payload', '--max-payload', [CompletionResultType]::ParameterName, 'Largest push accepted (e.g. 512k, 16M; up to 255MiB)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Where pushes go: sqlite:PATH, postgres://..., http(s)://..., exec:COMMAND (repeatable)')
            [CompletionResult]::new('--dead-letter', '--dead-letter', [CompletionResultType]::ParameterName, 'NDJSON file for pushes a target rejected for good (then acknowledged)')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Webhook requests or commands at once, per target')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Longest a webhook request or a command may take')
            [CompletionResult]::new('--max-attempts', '--max-attempts', [CompletionResultType]::ParameterName, 'Runs of a failing command per push before it goes to the dead letter')
            [CompletionResult]::new('--give-up', '--give-up', [CompletionResultType]::ParameterName, 'Stop with exit 7 after failing this long without committing anything [default: never]')
            [CompletionResult]::new('--batch-size', '--batch-size', [CompletionResultType]::ParameterName, 'Most pushes per batch (at most 3 batches in flight: committing, waiting, gathering) [default: 10000 when every target is a database, else 1000]')
            [CompletionResult]::new('--batch-age', '--batch-age', [CompletionResultType]::ParameterName, 'Longest a batch gathers while pushes keep coming')
            [CompletionResult]::new('--demo', '--demo', [CompletionResultType]::ParameterName, 'Relay from a built-in emulator (demo app, simulated devices): no credentials needed')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connect with TLS (rustls; the system''s root certificates unless --ca-file)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sensoro-mqtt;emulate' {
            [CompletionResult]::new('--app-id', '--app-id', [CompletionResultType]::ParameterName, 'AppID of the app to serve (MQTT username, clientId prefix)')
            [CompletionResult]::new('--app-secret', '--app-secret', [CompletionResultType]::ParameterName, 'AppSecret of that app (MQTT password) [env: SENSORO_APP_SECRET]')
            [CompletionResult]::new('--app-key', '--app-key', [CompletionResultType]::ParameterName, 'AppKey of that app, for --safe-mode (43 characters) [env: SENSORO_APP_KEY]')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'Another app as ID:SECRET[:KEY] (repeatable); each app sees only its own devices')
            [CompletionResult]::new('--publisher', '--publisher', [CompletionResultType]::ParameterName, 'A credential that may PUBLISH pushes on app APPID''s topic (repeatable): log in with username APPID, password SECRET and a clientId of the app; what it publishes on users/APPID/devices reaches the app''s subscribers (e.g. with mosquitto_pub)')
            [CompletionResult]::new('--bind', '--bind', [CompletionResultType]::ParameterName, 'Address to listen on')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port to listen on (0 picks a free one; the first line says which)')
            [CompletionResult]::new('--max-qos', '--max-qos', [CompletionResultType]::ParameterName, 'Highest QoS granted on SUBSCRIBE (the platform has no QoS 2)')
            [CompletionResult]::new('--drop-after', '--drop-after', [CompletionResultType]::ParameterName, 'Fault injection: close each connection after N pushes were sent to it')
            [CompletionResult]::new('--max-connections', '--max-connections', [CompletionResultType]::ParameterName, 'Most simultaneous connections; more get CONNACK 3 (server unavailable)')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Close a connection that holds no subscription for this long (publishers: that neither subscribe nor publish)')
            [CompletionResult]::new('--devices', '--devices', [CompletionResultType]::ParameterName, 'Simulated devices, spread over the apps (0 for none)')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Time between rounds of device pushes, or between replayed lines (0 for no pause)')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'Seed of the simulation: the same seed gives the same pushes')
            [CompletionResult]::new('--replay', '--replay', [CompletionResultType]::ParameterName, 'Publish the pushes of FILE (NDJSON, one per line) instead of simulating; ''-'' (stdin), a FIFO or a device is streamed: each line is published as it arrives')
            [CompletionResult]::new('--webhook', '--webhook', [CompletionResultType]::ParameterName, 'Also POST each push to URL as the platform''s webhook does (signed with the app''s AppSecret; retried with backoff); URL for every app or APPID=URL for one (repeatable)')
            [CompletionResult]::new('--scenario', '--scenario', [CompletionResultType]::ParameterName, 'What the devices do: a built-in scenario (demo, alarms, stale, load) or a TOML file; --devices and --interval size the demo''s fleet')
            [CompletionResult]::new('--loop', '--loop', [CompletionResultType]::ParameterName, 'Start the replay again when it ends')
            [CompletionResult]::new('--safe-mode', '--safe-mode', [CompletionResultType]::ParameterName, 'Send data encrypted as encryptData with each app''s AppKey')
            [CompletionResult]::new('--list-scenarios', '--list-scenarios', [CompletionResultType]::ParameterName, 'Print the built-in scenarios, one line each, and exit')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sensoro-mqtt;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sensoro-mqtt;man' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sensoro-mqtt;help' {
            [CompletionResult]::new('listen', 'listen', [CompletionResultType]::ParameterValue, 'Subscribe to users/<AppID>/devices and print every push')
            [CompletionResult]::new('watch', 'watch', [CompletionResultType]::ParameterValue, 'A live dashboard of the app''s devices: one row per device, alarms and silent ones marked')
            [CompletionResult]::new('connect', 'connect', [CompletionResultType]::ParameterValue, 'Check credentials and connectivity step by step, and explain any refusal')
            [CompletionResult]::new('validate-id', 'validate-id', [CompletionResultType]::ParameterValue, 'Check clientIds against the platform rule (for humans and CI)')
            [CompletionResult]::new('profile', 'profile', [CompletionResultType]::ParameterValue, 'Manage stored credential profiles')
            [CompletionResult]::new('decrypt', 'decrypt', [CompletionResultType]::ParameterValue, 'Decrypt safe-mode payloads: encryptData, a push, or an NDJSON stream')
            [CompletionResult]::new('encrypt', 'encrypt', [CompletionResultType]::ParameterValue, 'Encrypt text or pushes the way the platform''s safe mode does')
            [CompletionResult]::new('relay', 'relay', [CompletionResultType]::ParameterValue, 'Deliver every push into your system (webhook, SQLite, PostgreSQL, a command), at least once')
            [CompletionResult]::new('emulate', 'emulate', [CompletionResultType]::ParameterValue, 'Run a local broker that behaves like the platform (offline development, demos, tests)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the manual page (roff): sensoro-mqtt man | man -l -')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sensoro-mqtt;help;listen' {
            break
        }
        'sensoro-mqtt;help;watch' {
            break
        }
        'sensoro-mqtt;help;connect' {
            break
        }
        'sensoro-mqtt;help;validate-id' {
            break
        }
        'sensoro-mqtt;help;profile' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List stored profiles (the default one is marked with *)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one profile (the default one without NAME); secrets are masked')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Store a new profile (or replace one with --force)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Delete a profile')
            [CompletionResult]::new('default', 'default', [CompletionResultType]::ParameterValue, 'Make a profile the default')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Change one field of a profile (checked as `add` checks it)')
            break
        }
        'sensoro-mqtt;help;profile;list' {
            break
        }
        'sensoro-mqtt;help;profile;show' {
            break
        }
        'sensoro-mqtt;help;profile;add' {
            break
        }
        'sensoro-mqtt;help;profile;remove' {
            break
        }
        'sensoro-mqtt;help;profile;default' {
            break
        }
        'sensoro-mqtt;help;profile;set' {
            break
        }
        'sensoro-mqtt;help;decrypt' {
            break
        }
        'sensoro-mqtt;help;encrypt' {
            break
        }
        'sensoro-mqtt;help;relay' {
            break
        }
        'sensoro-mqtt;help;emulate' {
            break
        }
        'sensoro-mqtt;help;completions' {
            break
        }
        'sensoro-mqtt;help;man' {
            break
        }
        'sensoro-mqtt;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
