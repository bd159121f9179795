
use builtin;
use str;

set edit:completion:arg-completer[sensoro-mqtt] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'sensoro-mqtt'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'sensoro-mqtt'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand listen 'Subscribe to users/<AppID>/devices and print every push'
            cand watch 'A live dashboard of the app''s devices: one row per device, alarms and silent ones marked'
            cand connect 'Check credentials and connectivity step by step, and explain any refusal'
            cand validate-id 'Check clientIds against the platform rule (for humans and CI)'
            cand profile 'Manage stored credential profiles'
            cand decrypt 'Decrypt safe-mode payloads: encryptData, a push, or an NDJSON stream'
            cand encrypt 'Encrypt text or pushes the way the platform''s safe mode does'
            cand relay 'Deliver every push into your system (webhook, SQLite, PostgreSQL, a command), at least once'
            cand emulate 'Run a local broker that behaves like the platform (offline development, demos, tests)'
            cand completions 'Print a shell completion script'
            cand man 'Print the manual page (roff): sensoro-mqtt man | man -l -'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sensoro-mqtt;listen'= {
            cand --app-id 'AppID (MQTT username) [env: SENSORO_APP_ID]'
            cand --app-secret 'AppSecret (MQTT password); prefer SENSORO_APP_SECRET, a profile or the prompt'
            cand --app-key 'AppKey to decrypt safe-mode pushes [env: SENSORO_APP_KEY]'
            cand --host 'Broker host from the platform''s developer page [env: SENSORO_HOST]'
            cand --port 'Broker port [env: SENSORO_PORT; default 1883]'
            cand --ca-file 'CA bundle (PEM) to verify the broker''s certificate with (implies --tls)'
            cand --profile 'Take settings from this profile [env: SENSORO_PROFILE]'
            cand --client-id 'The clientId [default: <AppID>/<suffix>]'
            cand --qos 'Subscription QoS [default: the profile''s qos, else 1]'
            cand --topic 'Subscribe to this topic instead of users/<AppID>/devices'
            cand --clean 'Clean session; false with a fixed --client-id keeps QoS 1 pushes sent while away'
            cand --max-payload 'Largest push accepted (e.g. 512k, 16M; up to 255MiB); a bigger one stops listen'
            cand --format 'Output format [default: pretty on a terminal, json otherwise]'
            cand --color 'Colour in the pretty format (NO_COLOR is honoured)'
            cand --output 'Also append every push as NDJSON to FILE'
            cand --count 'Stop after N pushes'
            cand --timeout 'Stop after DURATION (500ms, 30s, 2m); exit 124 if --count was not reached'
            cand --sn 'Only pushes from this device sn (repeatable)'
            cand --device-type 'Only this deviceType (repeatable)'
            cand --type 'Only this push type, e.g. text (repeatable)'
            cand --demo 'Listen to a built-in emulator (demo app, simulated devices): no credentials needed'
            cand --tls 'Connect with TLS (rustls; the system''s root certificates unless --ca-file)'
            cand --compact 'Pretty format: one line per push'
            cand --wide 'Pretty format: never wrap or shorten'
            cand --envelope 'JSON lines become {received_at, topic, qos, retain, dup, push}'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sensoro-mqtt;watch'= {
            cand --app-id 'AppID (MQTT username) [env: SENSORO_APP_ID]'
            cand --app-secret 'AppSecret (MQTT password); prefer SENSORO_APP_SECRET, a profile or the prompt'
            cand --app-key 'AppKey to decrypt safe-mode pushes [env: SENSORO_APP_KEY]'
            cand --host 'Broker host from the platform''s developer page [env: SENSORO_HOST]'
            cand --port 'Broker port [env: SENSORO_PORT; default 1883]'
            cand --ca-file 'CA bundle (PEM) to verify the broker''s certificate with (implies --tls)'
            cand --profile 'Take settings from this profile [env: SENSORO_PROFILE]'
            cand --client-id 'The clientId [default: <AppID>/<suffix>]'
            cand --qos 'Subscription QoS [default: the profile''s qos, else 1]'
            cand --topic 'Subscribe to this topic instead of users/<AppID>/devices'
            cand --clean 'Clean session; false with a fixed --client-id keeps QoS 1 pushes sent while away'
            cand --max-payload 'Largest push accepted (e.g. 512k, 16M; up to 255MiB); a bigger one stops watch'
            cand --color 'Colour (NO_COLOR is honoured)'
            cand --demo 'Watch a built-in emulator (demo app, one simulated device of each known type)'
            cand --tls 'Connect with TLS (rustls; the system''s root certificates unless --ca-file)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sensoro-mqtt;connect'= {
            cand --app-id 'AppID (MQTT username) [env: SENSORO_APP_ID]'
            cand --app-secret 'AppSecret (MQTT password); prefer SENSORO_APP_SECRET, a profile or the prompt'
            cand --app-key 'AppKey to decrypt safe-mode pushes [env: SENSORO_APP_KEY]'
            cand --host 'Broker host from the platform''s developer page [env: SENSORO_HOST]'
            cand --port 'Broker port [env: SENSORO_PORT; default 1883]'
            cand --ca-file 'CA bundle (PEM) to verify the broker''s certificate with (implies --tls)'
            cand --profile 'Take settings from this profile [env: SENSORO_PROFILE]'
            cand --client-id 'The clientId [default: <AppID>/<suffix>]'
            cand --qos 'Subscription QoS [default: the profile''s qos, else 1]'
            cand --topic 'Subscribe to this topic instead of users/<AppID>/devices'
            cand --timeout 'Bound on the whole check (500ms, 10s, 1m)'
            cand --save 'After a successful check, store these settings as profile NAME'
            cand --color 'Colour in the report (NO_COLOR is honoured)'
            cand --tls 'Connect with TLS (rustls; the system''s root certificates unless --ca-file)'
            cand --json 'Print the report as one JSON object (for CI)'
            cand --force 'With --save: replace an existing profile of that name'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sensoro-mqtt;validate-id'= {
            cand --app-id 'The AppID the ids must start with [env: SENSORO_APP_ID; else the profile''s app_id]'
            cand --profile 'Take the AppID from this profile [env: SENSORO_PROFILE]'
            cand --json 'Print one JSON object per id (NDJSON)'
            cand -q 'Print nothing; the exit status says whether all ids are valid'
            cand --quiet 'Print nothing; the exit status says whether all ids are valid'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sensoro-mqtt;profile'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand list 'List stored profiles (the default one is marked with *)'
            cand show 'Show one profile (the default one without NAME); secrets are masked'
            cand add 'Store a new profile (or replace one with --force)'
            cand remove 'Delete a profile'
            cand default 'Make a profile the default'
            cand set 'Change one field of a profile (checked as `add` checks it)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sensoro-mqtt;profile;list'= {
            cand --json 'Print a JSON array'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sensoro-mqtt;profile;show'= {
            cand --json 'Print a JSON object'
            cand --show-secrets 'Print AppSecret and AppKey in full instead of masked'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sensoro-mqtt;profile;add'= {
            cand --app-id 'AppID (MQTT username)'
            cand --app-secret 'AppSecret (MQTT password); better: SENSORO_APP_SECRET or the prompt on a terminal'
            cand --app-key 'AppKey for safe mode (43 characters); better: SENSORO_APP_KEY or the prompt'
            cand --host 'Broker host from the platform''s developer page'
            cand --port 'Broker port [default when unset: 1883]'
            cand --ca-file 'CA bundle (PEM) for TLS'
            cand --qos 'Subscription QoS'
            cand --client-suffix 'Fixed clientId suffix: the clientId becomes <AppID>/<SUFFIX>'
            cand --tls 'Connect with TLS'
            cand --default 'Make it the default profile'
            cand --force 'Replace an existing profile of that name'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sensoro-mqtt;profile;remove'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sensoro-mqtt;profile;default'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sensoro-mqtt;profile;set'= {
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sensoro-mqtt;profile;help'= {
            cand list 'List stored profiles (the default one is marked with *)'
            cand show 'Show one profile (the default one without NAME); secrets are masked'
            cand add 'Store a new profile (or replace one with --force)'
            cand remove 'Delete a profile'
            cand default 'Make a profile the default'
            cand set 'Change one field of a profile (checked as `add` checks it)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sensoro-mqtt;profile;help;list'= {
        }
        &'sensoro-mqtt;profile;help;show'= {
        }
        &'sensoro-mqtt;profile;help;add'= {
        }
        &'sensoro-mqtt;profile;help;remove'= {
        }
        &'sensoro-mqtt;profile;help;default'= {
        }
        &'sensoro-mqtt;profile;help;set'= {
        }
        &'sensoro-mqtt;profile;help;help'= {
        }
        &'sensoro-mqtt;decrypt'= {
            cand --app-key 'AppKey, the 43-character message encryption key [env: SENSORO_APP_KEY; else the profile''s app_key]'
            cand --app-id 'AppID sealed into every encryptData [env: SENSORO_APP_ID; else the profile''s app_id; else a push''s own appId]'
            cand --profile 'Take values from this profile [env: SENSORO_PROFILE]'
            cand --color 'Colour on a terminal (pushes are rendered for reading there; NO_COLOR is honoured)'
            cand --no-verify-app-id 'Do not check that the AppID sealed inside matches'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sensoro-mqtt;encrypt'= {
            cand --push 'Turn plain pushes (JSON, one per line) from FILE or ''-'' into safe-mode pushes'
            cand --app-key 'AppKey, the 43-character message encryption key [env: SENSORO_APP_KEY; else the profile''s app_key]'
            cand --app-id 'AppID sealed into every encryptData [env: SENSORO_APP_ID; else the profile''s app_id; else a push''s own appId]'
            cand --profile 'Take values from this profile [env: SENSORO_PROFILE]'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sensoro-mqtt;relay'= {
            cand --app-id 'AppID (MQTT username) [env: SENSORO_APP_ID]'
            cand --app-secret 'AppSecret (MQTT password); prefer SENSORO_APP_SECRET, a profile or the prompt'
            cand --app-key 'AppKey to decrypt safe-mode pushes [env: SENSORO_APP_KEY]'
            cand --host 'Broker host from the platform''s developer page [env: SENSORO_HOST]'
            cand --port 'Broker port [env: SENSORO_PORT; default 1883]'
            cand --ca-file 'CA bundle (PEM) to verify the broker''s certificate with (implies --tls)'
            cand --profile 'Take settings from this profile [env: SENSORO_PROFILE]'
            cand --client-id 'The clientId [default: <AppID>/<suffix>]'
            cand --qos 'Subscription QoS [default: the profile''s qos, else 1]'
            cand --topic 'Subscribe to this topic instead of users/<AppID>/devices'
            cand --max-payload 'Largest push accepted (e.g. 512k, 16M; up to 255MiB)'
            cand --to 'Where pushes go: sqlite:PATH, postgres://..., http(s)://..., exec:COMMAND (repeatable)'
            cand --dead-letter 'NDJSON file for pushes a target rejected for good (then acknowledged)'
            cand --concurrency 'Webhook requests or commands at once, per target'
            cand --timeout 'Longest a webhook request or a command may take'
            cand --max-attempts 'Runs of a failing command per push before it goes to the dead letter'
            cand --give-up 'Stop with exit 7 after failing this long without committing anything [default: never]'
            cand --batch-size 'Most pushes per batch (at most 3 batches in flight: committing, waiting, gathering) [default: 10000 when every target is a database, else 1000]'
            cand --batch-age 'Longest a batch gathers while pushes keep coming'
            cand --demo 'Relay from a built-in emulator (demo app, simulated devices): no credentials needed'
            cand --tls 'Connect with TLS (rustls; the system''s root certificates unless --ca-file)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sensoro-mqtt;emulate'= {
            cand --app-id 'AppID of the app to serve (MQTT username, clientId prefix)'
            cand --app-secret 'AppSecret of that app (MQTT password) [env: SENSORO_APP_SECRET]'
            cand --app-key 'AppKey of that app, for --safe-mode (43 characters) [env: SENSORO_APP_KEY]'
            cand --app 'Another app as ID:SECRET[:KEY] (repeatable); each app sees only its own devices'
            cand --publisher 'A credential that may PUBLISH pushes on app APPID''s topic (repeatable): log in with username APPID, password SECRET and a clientId of the app; what it publishes on users/APPID/devices reaches the app''s subscribers (e.g. with mosquitto_pub)'
            cand --bind 'Address to listen on'
            cand --port 'Port to listen on (0 picks a free one; the first line says which)'
            cand --max-qos 'Highest QoS granted on SUBSCRIBE (the platform has no QoS 2)'
            cand --drop-after 'Fault injection: close each connection after N pushes were sent to it'
            cand --max-connections 'Most simultaneous connections; more get CONNACK 3 (server unavailable)'
            cand --idle-timeout 'Close a connection that holds no subscription for this long (publishers: that neither subscribe nor publish)'
            cand --devices 'Simulated devices, spread over the apps (0 for none)'
            cand --interval 'Time between rounds of device pushes, or between replayed lines (0 for no pause)'
            cand --seed 'Seed of the simulation: the same seed gives the same pushes'
            cand --replay 'Publish the pushes of FILE (NDJSON, one per line) instead of simulating; ''-'' (stdin), a FIFO or a device is streamed: each line is published as it arrives'
            cand --webhook 'Also POST each push to URL as the platform''s webhook does (signed with the app''s AppSecret; retried with backoff); URL for every app or APPID=URL for one (repeatable)'
            cand --scenario 'What the devices do: a built-in scenario (demo, alarms, stale, load) or a TOML file; --devices and --interval size the demo''s fleet'
            cand --loop 'Start the replay again when it ends'
            cand --safe-mode 'Send data encrypted as encryptData with each app''s AppKey'
            cand --list-scenarios 'Print the built-in scenarios, one line each, and exit'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sensoro-mqtt;completions'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sensoro-mqtt;man'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sensoro-mqtt;help'= {
            cand listen 'Subscribe to users/<AppID>/devices and print every push'
            cand watch 'A live dashboard of the app''s devices: one row per device, alarms and silent ones marked'
            cand connect 'Check credentials and connectivity step by step, and explain any refusal'
            cand validate-id 'Check clientIds against the platform rule (for humans and CI)'
            cand profile 'Manage stored credential profiles'
            cand decrypt 'Decrypt safe-mode payloads: encryptData, a push, or an NDJSON stream'
            cand encrypt 'Encrypt text or pushes the way the platform''s safe mode does'
            cand relay 'Deliver every push into your system (webhook, SQLite, PostgreSQL, a command), at least once'
            cand emulate 'Run a local broker that behaves like the platform (offline development, demos, tests)'
            cand completions 'Print a shell completion script'
            cand man 'Print the manual page (roff): sensoro-mqtt man | man -l -'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sensoro-mqtt;help;listen'= {
        }
        &'sensoro-mqtt;help;watch'= {
        }
        &'sensoro-mqtt;help;connect'= {
        }
        &'sensoro-mqtt;help;validate-id'= {
        }
        &'sensoro-mqtt;help;profile'= {
            cand list 'List stored profiles (the default one is marked with *)'
            cand show 'Show one profile (the default one without NAME); secrets are masked'
            cand add 'Store a new profile (or replace one with --force)'
            cand remove 'Delete a profile'
            cand default 'Make a profile the default'
            cand set 'Change one field of a profile (checked as `add` checks it)'
        }
        &'sensoro-mqtt;help;profile;list'= {
        }
        &'sensoro-mqtt;help;profile;show'= {
        }
        &'sensoro-mqtt;help;profile;add'= {
        }
        &'sensoro-mqtt;help;profile;remove'= {
        }
        &'sensoro-mqtt;help;profile;default'= {
        }
        &'sensoro-mqtt;help;profile;set'= {
        }
        &'sensoro-mqtt;help;decrypt'= {
        }
        &'sensoro-mqtt;help;encrypt'= {
        }
        &'sensoro-mqtt;help;relay'= {
        }
        &'sensoro-mqtt;help;emulate'= {
        }
        &'sensoro-mqtt;help;completions'= {
        }
        &'sensoro-mqtt;help;man'= {
        }
        &'sensoro-mqtt;help;help'= {
        }
    ]
    $completions[$command]
}
