//! The shape of docker compose's `config` output: which keys are struct fields (printed in Go
//! declaration order) and which are data (maps, printed sorted).
//!
//! The reference (compose-go's `types` package) marshals Go structs, so:
//! - the fields of a struct come in declaration order: one table below per Go struct, in the
//!   order of its fields (`ServiceConfig` starts `profiles, annotations, attach, build...`);
//! - map keys (labels, environment, services, networks...) and free-form values (`x-` content,
//!   `driver_opts`) are sorted: byte order in JSON (encoding/json), go-yaml's natural order in YAML;
//! - `x-` keys of a struct are inline extensions: YAML prints them after the fields, sorted;
//!   JSON drops them (`json:"-"`), except at the top level where the project is a map;
//! - a field whose value is an empty list or map is omitted (`omitempty`), except the fields
//!   marked [`Presence::JsonAlways`] (`command: null` in JSON);
//! - a field holding a Go struct by value ([`Presence::ValueStruct`]) is always printed in JSON
//!   (`ipam: {}`, `placement: {}`) and omitted in YAML when empty.
//!
//! To add a key: add it to the table of its struct at the position compose-go declares it.
//! A key no table knows is printed after the known ones, sorted.

use serde_json::{Map, Value};

use super::render::Flavour;

/// What a node holds.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A scalar, a list of scalars or a free-form value: maps inside are sorted.
    Any,
    /// A map whose keys are data: sorted, values of the given kind.
    Map(&'static Kind),
    /// A list whose items are of the given kind.
    List(&'static Kind),
    /// A Go struct: its fields in declaration order.
    Struct(&'static [Field]),
}

/// How a field behaves when it is empty or absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// `omitempty`: absent, or an empty list or map, means not printed.
    OmitEmpty,
    /// Printed in JSON even when absent (as `null`); YAML omits it only when absent.
    JsonAlways,
    /// A struct held by value: `{}` in JSON when absent, omitted in YAML when empty.
    ValueStruct,
    /// No `omitempty`: printed as is, empty or not.
    Always,
    /// No `omitempty`, a Go scalar: its zero value when absent (`Weight: 0`, `Rate: "0"`).
    Zero(&'static str),
}

/// One field of a Go struct.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    /// The JSON key when it differs from the YAML one (a Go field without a `json` tag is
    /// printed under its Go name: `Path`, `Rate`).
    pub json: Option<&'static str>,
    pub kind: Kind,
    pub presence: Presence,
}

const fn f(name: &'static str) -> Field {
    Field {
        name,
        json: None,
        kind: Kind::Any,
        presence: Presence::OmitEmpty,
    }
}

const fn s(name: &'static str, fields: &'static [Field]) -> Field {
    Field {
        name,
        json: None,
        kind: Kind::Struct(fields),
        presence: Presence::OmitEmpty,
    }
}

const fn k(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        json: None,
        kind,
        presence: Presence::OmitEmpty,
    }
}

const fn with(field: Field, presence: Presence) -> Field {
    Field {
        name: field.name,
        json: field.json,
        kind: field.kind,
        presence,
    }
}

const ANY: Kind = Kind::Any;
const MAP: Kind = Kind::Map(&ANY);

/// A list of structs.
macro_rules! list_of {
    ($fields:expr) => {
        Kind::List(&Kind::Struct($fields))
    };
}

pub static PROJECT: &[Field] = &[
    f("name"),
    with(
        k("services", Kind::Map(&Kind::Struct(SERVICE))),
        Presence::Always,
    ),
    k("networks", Kind::Map(&Kind::Struct(NETWORK))),
    k("volumes", Kind::Map(&Kind::Struct(VOLUME))),
    k("secrets", Kind::Map(&Kind::Struct(FILE_OBJECT))),
    k("configs", Kind::Map(&Kind::Struct(FILE_OBJECT))),
    k("models", Kind::Map(&Kind::Struct(MODEL))),
];

pub static SERVICE: &[Field] = &[
    f("profiles"),
    k("annotations", MAP),
    f("attach"),
    s("build", BUILD),
    s("develop", DEVELOP),
    s("blkio_config", BLKIO),
    f("cap_add"),
    f("cap_drop"),
    f("cgroup_parent"),
    f("cgroup"),
    f("cpu_count"),
    f("cpu_percent"),
    f("cpu_period"),
    f("cpu_quota"),
    f("cpu_rt_period"),
    f("cpu_rt_runtime"),
    f("cpus"),
    f("cpuset"),
    f("cpu_shares"),
    with(f("command"), Presence::JsonAlways),
    k("configs", list_of!(FILE_REF)),
    f("container_name"),
    s("credential_spec", CREDENTIAL_SPEC),
    k("depends_on", Kind::Map(&Kind::Struct(DEPENDENCY))),
    s("deploy", DEPLOY),
    f("device_cgroup_rules"),
    k("devices", list_of!(DEVICE)),
    f("dns"),
    f("dns_opt"),
    f("dns_search"),
    f("dockerfile"),
    f("domainname"),
    with(f("entrypoint"), Presence::JsonAlways),
    s("provider", PROVIDER),
    k("environment", MAP),
    k("env_file", list_of!(ENV_FILE)),
    f("expose"),
    s("extends", EXTENDS),
    f("external_links"),
    f("extra_hosts"),
    f("group_add"),
    k("gpus", list_of!(DEVICE_REQUEST)),
    f("hostname"),
    s("healthcheck", HEALTHCHECK),
    f("image"),
    f("init"),
    f("ipc"),
    f("isolation"),
    k("labels", MAP),
    f("label_file"),
    f("links"),
    s("logging", LOGGING),
    f("log_driver"),
    k("log_opt", MAP),
    f("mem_limit"),
    f("mem_reservation"),
    f("memswap_limit"),
    f("mem_swappiness"),
    f("mac_address"),
    k("models", Kind::Map(&Kind::Struct(SERVICE_MODEL))),
    f("net"),
    f("network_mode"),
    k("networks", Kind::Map(&Kind::Struct(SERVICE_NETWORK))),
    f("oom_kill_disable"),
    f("oom_score_adj"),
    f("pid"),
    f("pids_limit"),
    f("platform"),
    k("ports", list_of!(PORT)),
    f("privileged"),
    f("pull_policy"),
    f("read_only"),
    f("restart"),
    f("runtime"),
    f("scale"),
    k("secrets", list_of!(FILE_REF)),
    f("security_opt"),
    f("shm_size"),
    f("stdin_open"),
    f("stop_grace_period"),
    f("stop_signal"),
    k("storage_opt", MAP),
    k("sysctls", MAP),
    f("tmpfs"),
    f("tty"),
    k("ulimits", Kind::Map(&Kind::Struct(ULIMIT))),
    f("use_api_socket"),
    f("user"),
    f("userns_mode"),
    f("uts"),
    f("volume_driver"),
    k("volumes", list_of!(SERVICE_VOLUME)),
    f("volumes_from"),
    f("working_dir"),
    k("post_start", list_of!(HOOK)),
    k("pre_stop", list_of!(HOOK)),
];

static BUILD: &[Field] = &[
    f("context"),
    f("dockerfile"),
    f("dockerfile_inline"),
    f("entitlements"),
    k("args", MAP),
    f("provenance"),
    f("sbom"),
    f("ssh"),
    k("labels", MAP),
    f("cache_from"),
    f("cache_to"),
    f("no_cache"),
    f("no_cache_filter"),
    k("additional_contexts", MAP),
    f("pull"),
    f("extra_hosts"),
    f("isolation"),
    f("network"),
    f("target"),
    k("secrets", list_of!(FILE_REF)),
    f("shm_size"),
    f("tags"),
    k("ulimits", Kind::Map(&Kind::Struct(ULIMIT))),
    f("platforms"),
    f("privileged"),
];

static DEVELOP: &[Field] = &[k("watch", list_of!(TRIGGER))];

static TRIGGER: &[Field] = &[
    with(f("path"), Presence::Always),
    with(f("action"), Presence::Always),
    f("target"),
    with(s("exec", HOOK), Presence::ValueStruct),
    f("include"),
    f("ignore"),
    f("initial_sync"),
];

static HOOK: &[Field] = &[
    with(f("command"), Presence::JsonAlways),
    f("user"),
    f("privileged"),
    f("working_dir"),
    k("environment", MAP),
];

static BLKIO: &[Field] = &[
    f("weight"),
    k("weight_device", Kind::List(&Kind::Struct(WEIGHT_DEVICE))),
    k(
        "device_read_bps",
        Kind::List(&Kind::Struct(THROTTLE_DEVICE)),
    ),
    k(
        "device_read_iops",
        Kind::List(&Kind::Struct(THROTTLE_DEVICE)),
    ),
    k(
        "device_write_bps",
        Kind::List(&Kind::Struct(THROTTLE_DEVICE)),
    ),
    k(
        "device_write_iops",
        Kind::List(&Kind::Struct(THROTTLE_DEVICE)),
    ),
];

/// Go's `Path` / `Weight` / `Rate` fields carry no `json` tag: JSON prints the Go names.
const fn go_named(name: &'static str, json: &'static str, zero: &'static str) -> Field {
    Field {
        name,
        json: Some(json),
        kind: Kind::Any,
        presence: Presence::Zero(zero),
    }
}

static WEIGHT_DEVICE: &[Field] = &[
    go_named("path", "Path", "\"\""),
    go_named("weight", "Weight", "0"),
];

static THROTTLE_DEVICE: &[Field] = &[
    go_named("path", "Path", "\"\""),
    go_named("rate", "Rate", "\"0\""),
];

static CREDENTIAL_SPEC: &[Field] = &[f("config"), f("file"), f("registry")];

static DEPENDENCY: &[Field] = &[
    f("condition"),
    f("restart"),
    with(f("required"), Presence::Always),
];

static DEPLOY: &[Field] = &[
    f("mode"),
    f("replicas"),
    k("labels", MAP),
    s("update_config", UPDATE),
    s("rollback_config", UPDATE),
    with(s("resources", RESOURCES), Presence::ValueStruct),
    s("restart_policy", RESTART_POLICY),
    with(s("placement", PLACEMENT), Presence::ValueStruct),
    f("endpoint_mode"),
];

static UPDATE: &[Field] = &[
    f("parallelism"),
    f("delay"),
    f("failure_action"),
    f("monitor"),
    f("max_failure_ratio"),
    f("order"),
];

static RESOURCES: &[Field] = &[s("limits", RESOURCE), s("reservations", RESOURCE)];

static RESOURCE: &[Field] = &[
    f("cpus"),
    f("memory"),
    f("pids"),
    k("devices", list_of!(DEVICE_REQUEST)),
    k("generic_resources", list_of!(GENERIC_RESOURCE)),
];

static GENERIC_RESOURCE: &[Field] = &[s("discrete_resource_spec", DISCRETE_RESOURCE)];

static DISCRETE_RESOURCE: &[Field] = &[f("kind"), f("value")];

static RESTART_POLICY: &[Field] = &[f("condition"), f("delay"), f("max_attempts"), f("window")];

static PLACEMENT: &[Field] = &[
    f("constraints"),
    k("preferences", list_of!(&[f("spread")])),
    f("max_replicas_per_node"),
];

static DEVICE_REQUEST: &[Field] = &[
    f("capabilities"),
    f("driver"),
    f("count"),
    f("device_ids"),
    k("options", MAP),
];

static DEVICE: &[Field] = &[f("source"), f("target"), f("permissions")];

static PROVIDER: &[Field] = &[f("type"), k("options", MAP)];

static ENV_FILE: &[Field] = &[f("path"), f("required"), f("format")];

static EXTENDS: &[Field] = &[f("file"), f("service")];

static HEALTHCHECK: &[Field] = &[
    f("test"),
    f("timeout"),
    f("interval"),
    f("retries"),
    f("start_period"),
    f("start_interval"),
    f("disable"),
];

static LOGGING: &[Field] = &[f("driver"), k("options", MAP)];

static SERVICE_MODEL: &[Field] = &[f("endpoint_var"), f("model_var")];

static SERVICE_NETWORK: &[Field] = &[
    f("aliases"),
    k("driver_opts", MAP),
    f("gw_priority"),
    f("interface_name"),
    f("ipv4_address"),
    f("ipv6_address"),
    f("link_local_ips"),
    f("mac_address"),
    f("priority"),
];

static PORT: &[Field] = &[
    f("name"),
    f("mode"),
    f("host_ip"),
    f("target"),
    f("published"),
    f("protocol"),
    f("app_protocol"),
];

static SERVICE_VOLUME: &[Field] = &[
    f("type"),
    f("source"),
    f("target"),
    f("read_only"),
    f("consistency"),
    s(
        "bind",
        &[
            f("selinux"),
            f("propagation"),
            f("create_host_path"),
            f("recursive"),
        ],
    ),
    s("volume", &[k("labels", MAP), f("nocopy"), f("subpath")]),
    s("tmpfs", &[f("size"), f("mode")]),
    s("image", &[f("subpath")]),
];

static FILE_REF: &[Field] = &[f("source"), f("target"), f("uid"), f("gid"), f("mode")];

static ULIMIT: &[Field] = &[f("single"), f("soft"), f("hard")];

static NETWORK: &[Field] = &[
    f("name"),
    f("driver"),
    k("driver_opts", MAP),
    with(s("ipam", IPAM), Presence::ValueStruct),
    f("external"),
    f("internal"),
    f("attachable"),
    k("labels", MAP),
    f("enable_ipv4"),
    f("enable_ipv6"),
];

static IPAM: &[Field] = &[
    f("driver"),
    k("config", list_of!(IPAM_POOL)),
    k("options", MAP),
];

static IPAM_POOL: &[Field] = &[
    f("subnet"),
    f("gateway"),
    f("ip_range"),
    k("aux_addresses", MAP),
];

static VOLUME: &[Field] = &[
    f("name"),
    f("driver"),
    k("driver_opts", MAP),
    f("external"),
    k("labels", MAP),
];

static FILE_OBJECT: &[Field] = &[
    f("name"),
    f("file"),
    f("environment"),
    f("content"),
    f("external"),
    k("labels", MAP),
    f("driver"),
    k("driver_opts", MAP),
    f("template_driver"),
];

static MODEL: &[Field] = &[f("name"), f("model"), f("context_size"), f("runtime_flags")];

/// Orders the whole project tree (the root is the project) for `flavour`.
pub fn project(root: &mut Value, flavour: Flavour) {
    match flavour {
        // The reference marshals a map for JSON: every top-level key, sorted.
        Flavour::Json => {
            if let Value::Object(m) = root {
                let old = std::mem::take(m);
                let mut keys: Vec<(String, Value)> = old.into_iter().collect();
                keys.sort_by(|a, b| a.0.cmp(&b.0));
                for (key, mut v) in keys {
                    match PROJECT.iter().find(|f| f.name == key) {
                        Some(field) => apply(&mut v, field.kind, flavour),
                        None => apply(&mut v, Kind::Any, flavour),
                    }
                    m.insert(key, v);
                }
            }
        }
        Flavour::Yaml => apply(root, Kind::Struct(PROJECT), flavour),
    }
}

/// Orders one node of kind `kind`.
pub fn apply(v: &mut Value, kind: Kind, flavour: Flavour) {
    match (kind, v) {
        (Kind::Struct(fields), Value::Object(m)) => structure(m, fields, flavour),
        (Kind::Map(inner), Value::Object(m)) => {
            let old = std::mem::take(m);
            let mut entries: Vec<(String, Value)> = old.into_iter().collect();
            sort_keys(&mut entries, flavour);
            for (key, mut val) in entries {
                apply(&mut val, *inner, flavour);
                m.insert(key, val);
            }
        }
        (Kind::List(inner), Value::Array(items)) => {
            items.iter_mut().for_each(|i| apply(i, *inner, flavour))
        }
        (_, Value::Object(m)) => {
            // Free-form: every map is data.
            let old = std::mem::take(m);
            let mut entries: Vec<(String, Value)> = old.into_iter().collect();
            sort_keys(&mut entries, flavour);
            for (key, mut val) in entries {
                apply(&mut val, Kind::Any, flavour);
                m.insert(key, val);
            }
        }
        (_, Value::Array(items)) => items.iter_mut().for_each(|i| apply(i, Kind::Any, flavour)),
        _ => {}
    }
}

/// Sorts map entries as the reference prints them.
pub fn sort_keys(entries: &mut [(String, Value)], flavour: Flavour) {
    match flavour {
        Flavour::Json => entries.sort_by(|a, b| a.0.cmp(&b.0)),
        Flavour::Yaml => entries.sort_by(|a, b| go_yaml_order(&a.0, &b.0)),
    }
}

fn structure(m: &mut Map<String, Value>, fields: &[Field], flavour: Flavour) {
    let mut old = std::mem::take(m);
    for field in fields {
        // The leftovers are sorted below: their order does not matter.
        let (key, value) = match old.swap_remove_entry(field.name) {
            Some((key, value)) => (Some(key), Some(value)),
            None => (None, None),
        };
        let value = match (value, field.presence, flavour) {
            (None, Presence::JsonAlways, Flavour::Json) => Some(Value::Null),
            (None, Presence::ValueStruct, Flavour::Json) => Some(Value::Object(Map::new())),
            (None, Presence::Zero(zero), _) => serde_json::from_str(zero).ok(),
            (v, _, _) => v,
        };
        let Some(mut value) = value else { continue };
        apply(&mut value, field.kind, flavour);
        if omitted(&value, field, flavour) {
            continue;
        }
        // The key as read is kept where the printed name is the same.
        let name = match (flavour, field.json, key) {
            (Flavour::Json, Some(json), _) => json.to_string(),
            (_, _, Some(key)) => key,
            _ => field.name.to_string(),
        };
        m.insert(name, value);
    }
    // Keys no table knows, then extensions: sorted.
    let mut rest: Vec<(String, Value)> = old.into_iter().collect();
    if flavour == Flavour::Json {
        rest.retain(|(key, _)| !key.starts_with("x-"));
    }
    sort_keys(&mut rest, flavour);
    rest.sort_by_key(|(key, _)| key.starts_with("x-"));
    for (key, mut val) in rest {
        apply(&mut val, Kind::Any, flavour);
        m.insert(key, val);
    }
}

fn empty(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn omitted(v: &Value, field: &Field, flavour: Flavour) -> bool {
    match field.presence {
        Presence::Always | Presence::Zero(_) => false,
        // `command: []` is printed in both (an empty command clears the image's).
        Presence::JsonAlways => flavour == Flavour::Yaml && v.is_null(),
        Presence::ValueStruct => flavour == Flavour::Yaml && empty(v),
        // A pointer to a struct is printed even when empty (`volume: {}`).
        Presence::OmitEmpty => !matches!(field.kind, Kind::Struct(_)) && empty(v),
    }
}

/// go-yaml's map key order: like byte order, except that runs of digits compare as numbers
/// and letters sort before other characters.
pub fn go_yaml_order(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let less = |x: bool| if x { Ordering::Less } else { Ordering::Greater };
    let mut digits = false;
    let n = ar.len().min(br.len());
    for i in 0..n {
        if ar[i] == br[i] {
            digits = ar[i].is_ascii_digit();
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            return if digits { less(al) } else { less(bl) };
        }
        let (mut an, mut bn): (i64, i64) = (0, 0);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_ascii_digit() {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an.wrapping_mul(10).wrapping_add(ar[ai] as i64 - '0' as i64);
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn.wrapping_mul(10).wrapping_add(br[bi] as i64 - '0' as i64);
            bi += 1;
        }
        if an != bn {
            return an.cmp(&bn);
        }
        if ai != bi {
            return ai.cmp(&bi);
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_key_order_is_natural() {
        let mut keys = vec!["a10", "a9", "AB", "A_B", "b", "B"];
        keys.sort_by(|a, b| go_yaml_order(a, b));
        assert_eq!(keys, vec!["A_B", "AB", "B", "a9", "a10", "b"]);
    }

    #[test]
    fn struct_fields_follow_go_order() {
        let mut v =
            json!({"image": "x", "x-a": 1, "profiles": ["p"], "labels": {"b": "1", "a": "2"}});
        apply(&mut v, Kind::Struct(SERVICE), Flavour::Yaml);
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["profiles", "image", "labels", "x-a"]);
        let labels: Vec<&String> = v["labels"].as_object().unwrap().keys().collect();
        assert_eq!(labels, ["a", "b"]);
        apply(&mut v, Kind::Struct(SERVICE), Flavour::Json);
        assert!(v.get("x-a").is_none());
        assert_eq!(v["command"], Value::Null);
    }

    #[test]
    fn value_structs_are_json_only() {
        let mut n = json!({"name": "n"});
        apply(&mut n, Kind::Struct(NETWORK), Flavour::Json);
        assert_eq!(n, json!({"name": "n", "ipam": {}}));
        let mut n = json!({"name": "n", "ipam": {}});
        apply(&mut n, Kind::Struct(NETWORK), Flavour::Yaml);
        assert_eq!(n, json!({"name": "n"}));
    }
}
