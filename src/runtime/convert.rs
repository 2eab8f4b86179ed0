//! The model to the Engine API's request bodies (containers, networks, volumes), as docker
//! compose builds them. Pure; with [`super::engine::docker`], the only place bollard types live.

use bollard::models::{
    ContainerCreateBody, DeviceMapping, EndpointIpamConfig, EndpointSettings, HealthConfig,
    HostConfig, HostConfigLogConfig, Ipam, IpamConfig, Mount, MountBindOptions,
    MountBindOptionsPropagationEnum, MountTmpfsOptions, MountType, MountVolumeOptions,
    NetworkCreateRequest, NetworkingConfig, PortBinding, ResourcesUlimits, RestartPolicy,
    RestartPolicyNameEnum, VolumeCreateRequest,
};
use std::collections::HashMap;

use super::engine::MountPoint;
use super::labels;
use crate::graph::secrets::{self, mount_target};
use crate::graph::{hash, reconcile::container_name};
use crate::parse::{
    name, MountKind, NamespaceMode, Project, RestartMode, Service, ServiceVolume, Ulimit,
    VolumesFromSource,
};

/// A container's settings on one network.
pub(super) type Endpoint = EndpointSettings;
/// The body that creates a network.
pub(super) type NetworkSpec = NetworkCreateRequest;
/// The body that creates a volume.
pub(super) type VolumeSpec = VolumeCreateRequest;

/// Everything needed to create one container: the body, then the networks to connect before
/// start (API 1.41 takes one network at create).
#[derive(Debug, Clone)]
pub struct ContainerSpec {
    pub name: String,
    pub body: ContainerCreateBody,
    pub extra_networks: Vec<(String, Endpoint)>,
    /// `mac_address`, which engines before API 1.44 take only outside the typed body.
    pub mac_address: Option<String>,
}

fn string_map(m: &indexmap::IndexMap<String, String>) -> HashMap<String, String> {
    m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// The network `key` of the project, with the project's labels.
pub(super) fn network(project: &Project, key: &str, name: &str) -> NetworkSpec {
    let net = &project.networks[key];
    let mut labels = string_map(&net.labels);
    labels.insert(labels::PROJECT.into(), project.name.clone());
    labels.insert(labels::NETWORK.into(), key.into());
    labels.insert(labels::VERSION.into(), labels::COMPOSE_VERSION.into());
    let ipam = net.ipam.as_ref().map(|i| Ipam {
        driver: i.driver.clone(),
        config: Some(
            i.config
                .iter()
                .map(|c| IpamConfig {
                    subnet: c.subnet.clone(),
                    ip_range: c.ip_range.clone(),
                    gateway: c.gateway.clone(),
                    auxiliary_addresses: (!c.aux_addresses.is_empty())
                        .then(|| string_map(&c.aux_addresses)),
                })
                .collect(),
        ),
        options: (!i.options.is_empty()).then(|| string_map(&i.options)),
    });
    NetworkCreateRequest {
        name: name.to_string(),
        driver: net.driver.clone(),
        internal: Some(net.internal),
        attachable: Some(net.attachable),
        enable_ipv6: net.enable_ipv6,
        options: Some(string_map(&net.driver_opts)),
        labels: Some(labels),
        ipam,
        ..Default::default()
    }
}

/// The volume `key` of the project, with the project's labels.
pub(super) fn volume(project: &Project, key: &str, name: &str) -> VolumeSpec {
    let vol = &project.volumes[key];
    let mut labels = string_map(&vol.labels);
    labels.insert(labels::PROJECT.into(), project.name.clone());
    labels.insert(labels::VOLUME.into(), key.into());
    labels.insert(labels::VERSION.into(), labels::COMPOSE_VERSION.into());
    VolumeCreateRequest {
        name: Some(name.to_string()),
        driver: vol.driver.clone(),
        driver_opts: (!vol.driver_opts.is_empty()).then(|| string_map(&vol.driver_opts)),
        labels: Some(labels),
        ..Default::default()
    }
}

/// A volume as a backup's manifest describes it.
pub(super) fn volume_as(
    name: &str,
    driver: &str,
    driver_opts: &std::collections::BTreeMap<String, String>,
    labels: &std::collections::BTreeMap<String, String>,
) -> VolumeSpec {
    VolumeCreateRequest {
        name: Some(name.to_string()),
        driver: (!driver.is_empty()).then(|| driver.to_string()),
        driver_opts: (!driver_opts.is_empty()).then(|| {
            driver_opts
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        }),
        labels: Some(labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        ..Default::default()
    }
}

/// The container `backup` and `restore` reach a volume through: created from `image`, never
/// started, with no network, the volume at `path` (read-only for a backup, never filled from
/// the image).
pub(super) fn volume_helper(
    name: &str,
    image: &str,
    volume: &str,
    path: &str,
    read_only: bool,
    label: &str,
) -> ContainerSpec {
    let body = ContainerCreateBody {
        image: Some(image.to_string()),
        entrypoint: Some(vec!["/rcompose-never-started".to_string()]),
        cmd: Some(vec![]),
        network_disabled: Some(true),
        labels: Some(HashMap::from([(label.to_string(), volume.to_string())])),
        host_config: Some(HostConfig {
            network_mode: Some("none".into()),
            mounts: Some(vec![Mount {
                typ: Some(MountType::VOLUME),
                source: Some(volume.to_string()),
                target: Some(path.to_string()),
                read_only: Some(read_only),
                volume_options: Some(MountVolumeOptions {
                    no_copy: Some(true),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    };
    ContainerSpec {
        name: name.to_string(),
        body,
        extra_networks: vec![],
        mac_address: None,
    }
}

/// The networks of a service, primary first: highest `priority`, then by name.
pub(super) fn ordered_networks(svc: &Service) -> Vec<&String> {
    let mut nets: Vec<(&String, i64)> = svc
        .networks
        .iter()
        .map(|(k, v)| (k, v.as_ref().and_then(|n| n.priority).unwrap_or(0)))
        .collect();
    nets.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    nets.into_iter().map(|(k, _)| k).collect()
}

/// The labels of a replica.
pub(super) fn container_labels(
    project: &Project,
    svc: &Service,
    number: u64,
    image_id: &str,
) -> HashMap<String, String> {
    let mut l: HashMap<String, String> = svc
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let files: Vec<String> = project
        .config_files
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let mut deps: Vec<String> = svc
        .depends_on
        .iter()
        .map(|(n, d)| format!("{n}:{}:{}", d.condition.as_str(), d.restart))
        .collect();
    for implicit in svc.implicit_dependencies() {
        if !svc.depends_on.contains_key(&implicit.service) {
            deps.push(format!(
                "{}:service_started:{}",
                implicit.service, implicit.restart
            ));
        }
    }
    let pairs = [
        (labels::PROJECT, project.name.clone()),
        (labels::SERVICE, svc.name.clone()),
        (labels::NUMBER, number.to_string()),
        (labels::ONEOFF, "False".to_string()),
        (labels::CONFIG_HASH, hash::service(svc)),
        (labels::VERSION, labels::COMPOSE_VERSION.to_string()),
        (labels::CONFIG_FILES, files.join(",")),
        (
            labels::WORKING_DIR,
            project.working_dir.display().to_string(),
        ),
        (labels::DEPENDS_ON, deps.join(",")),
        (labels::IMAGE, image_id.to_string()),
    ];
    for (k, v) in pairs {
        l.insert(k.to_string(), v);
    }
    if !project.env_files.is_empty() {
        let files: Vec<String> = project
            .env_files
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        l.insert(labels::ENVIRONMENT_FILE.to_string(), files.join(","));
    }
    l
}

/// Legacy `links` as the reference writes them on each endpoint: for every container of the
/// linked service, its alias, `<service>-<n>` and its own name.
fn endpoint_links(project: &Project, svc: &Service) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for l in &svc.links {
        let (target, alias) = (&l.service, l.name());
        let Some(other) = project.services.get(target) else {
            continue;
        };
        for n in 1..=other.replicas() {
            let c = container_name(&project.name, other, n);
            out.push(format!("{c}:{alias}"));
            out.push(format!("{c}:{target}-{n}"));
            out.push(format!("{c}:{c}"));
        }
    }
    (!out.is_empty()).then_some(out)
}

fn endpoint(project: &Project, svc: &Service, key: &str, cname: &str) -> EndpointSettings {
    let given = svc.networks.get(key).cloned().flatten();
    // The reference sends an (empty) IPAM config only when the file maps the network.
    let mapped = given.is_some();
    let cfg = given.unwrap_or_default();
    let mut aliases = vec![cname.to_string(), svc.name.clone()];
    aliases.extend(cfg.aliases.iter().cloned());
    let ipam = mapped.then(|| EndpointIpamConfig {
        ipv4_address: cfg.ipv4_address.clone(),
        ipv6_address: cfg.ipv6_address.clone(),
        ..Default::default()
    });
    EndpointSettings {
        aliases: Some(aliases),
        ipam_config: ipam,
        links: endpoint_links(project, svc),
        ..Default::default()
    }
}

/// Resolves `service:x` (network_mode, ipc, pid) to `container:<x's first container>`.
fn namespace(project: &Project, mode: &NamespaceMode) -> String {
    match mode {
        NamespaceMode::Service(s) => match project.services.get(s) {
            Some(other) => format!("container:{}", container_name(&project.name, other, 1)),
            None => format!("container:{}", name::first_container(&project.name, s)),
        },
        other => other.to_string(),
    }
}

fn restart_policy(svc: &Service) -> Option<RestartPolicy> {
    use RestartPolicyNameEnum as Name;
    let from_deploy = svc
        .deploy
        .as_ref()
        .and_then(|d| d.restart_policy.as_ref())
        .map(|r| {
            let name = match r.condition.as_deref() {
                Some("none") => Name::NO,
                Some("on-failure") => Name::ON_FAILURE,
                _ => Name::ALWAYS,
            };
            (name, r.max_attempts)
        });
    let (name, count) = match (&svc.restart, from_deploy) {
        (_, Some(p)) => p,
        // Never `None` here: `validate::runnable` refused it before.
        (Some(r), None) => match r.policy {
            Some(RestartMode::Always) => (Name::ALWAYS, None),
            Some(RestartMode::UnlessStopped) => (Name::UNLESS_STOPPED, None),
            Some(RestartMode::OnFailure(n)) => (Name::ON_FAILURE, n.map(i64::from)),
            Some(RestartMode::No) | None => (Name::NO, None),
        },
        (None, None) => return None,
    };
    Some(RestartPolicy {
        name: Some(name),
        maximum_retry_count: count,
    })
}

fn mount_of(project: &Project, v: &ServiceVolume) -> (Option<String>, Option<Mount>) {
    match v.kind {
        MountKind::Bind => {
            let src = v.source.clone().unwrap_or_default();
            let opts = v.bind.clone().unwrap_or_default();
            let simple = opts.create_host_path != Some(false) && opts.propagation.is_none();
            if simple {
                let mut s = format!("{src}:{}", v.target);
                let mut modes = vec![if v.read_only { "ro" } else { "rw" }.to_string()];
                if let Some(z) = &opts.selinux {
                    modes.push(z.clone());
                }
                s = format!("{s}:{}", modes.join(","));
                return (Some(s), None);
            }
            let propagation = opts.propagation.as_deref().map(|p| match p {
                "shared" => MountBindOptionsPropagationEnum::SHARED,
                "rshared" => MountBindOptionsPropagationEnum::RSHARED,
                "slave" => MountBindOptionsPropagationEnum::SLAVE,
                "rslave" => MountBindOptionsPropagationEnum::RSLAVE,
                "private" => MountBindOptionsPropagationEnum::PRIVATE,
                _ => MountBindOptionsPropagationEnum::RPRIVATE,
            });
            (
                None,
                Some(Mount {
                    typ: Some(MountType::BIND),
                    source: Some(src),
                    target: Some(v.target.clone()),
                    read_only: Some(v.read_only),
                    bind_options: Some(MountBindOptions {
                        propagation,
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
            )
        }
        MountKind::Tmpfs => {
            let t = v.tmpfs.clone().unwrap_or_default();
            (
                None,
                Some(Mount {
                    typ: Some(MountType::TMPFS),
                    target: Some(v.target.clone()),
                    read_only: Some(v.read_only),
                    tmpfs_options: Some(MountTmpfsOptions {
                        size_bytes: t.size.map(|b| b.0),
                        mode: t.mode,
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
            )
        }
        // `npipe`, `cluster` and `image` are sent as volumes (as before).
        MountKind::Volume | MountKind::Npipe | MountKind::Cluster | MountKind::Image => {
            let opts = v.volume.clone().unwrap_or_default();
            let source = v.source.as_ref().map(|s| match project.volumes.get(s) {
                Some(vol) => vol.name.clone(),
                None => s.clone(),
            });
            match source {
                Some(src) if !opts.nocopy && opts.subpath.is_none() => {
                    let mode = if v.read_only { "ro" } else { "rw" };
                    // `data:/d:z` keeps its SELinux label on a named volume (`bind.selinux`).
                    let z = v
                        .bind
                        .as_ref()
                        .and_then(|b| b.selinux.as_deref())
                        .map_or(String::new(), |z| format!(",{z}"));
                    (Some(format!("{src}:{}:{mode}{z}", v.target)), None)
                }
                source => (
                    None,
                    Some(Mount {
                        typ: Some(MountType::VOLUME),
                        source,
                        target: Some(v.target.clone()),
                        read_only: Some(v.read_only),
                        // Sent when the file has volume options, even empty ones (the short
                        // syntax), as the reference does.
                        volume_options: v.volume.is_some().then(|| MountVolumeOptions {
                            no_copy: Some(opts.nocopy),
                            subpath: opts.subpath.clone(),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                ),
            }
        }
    }
}

/// Gives the new container the anonymous volumes of the one it replaces (by target), so that
/// recreation keeps their data, as the reference does.
pub(super) fn inherit_anonymous_volumes(
    project: &Project,
    spec: &mut ContainerSpec,
    old: &[MountPoint],
) {
    let named: Vec<&str> = project.volumes.values().map(|v| v.name.as_str()).collect();
    let host = spec.body.host_config.get_or_insert_with(Default::default);
    let binds = host.binds.clone().unwrap_or_default();
    let mounts = host.mounts.get_or_insert_with(Vec::new);
    for m in old {
        let (Some(name), dest) = (&m.name, &m.destination) else {
            continue;
        };
        let is_volume = m.kind == "volume";
        if !is_volume || named.contains(&name.as_str()) {
            continue;
        }
        if let Some(anon) = mounts
            .iter_mut()
            .find(|x| x.target.as_deref() == Some(dest.as_str()))
        {
            if anon.typ == Some(MountType::VOLUME) && anon.source.is_none() {
                anon.source = Some(name.clone());
            }
            continue;
        }
        let bound = binds
            .iter()
            .any(|b| b.split(':').nth(1) == Some(dest.as_str()));
        if !bound {
            mounts.push(Mount {
                typ: Some(MountType::VOLUME),
                source: Some(name.clone()),
                target: Some(dest.clone()),
                read_only: Some(!m.rw),
                ..Default::default()
            });
        }
    }
    if mounts.is_empty() {
        host.mounts = None;
    }
}

/// Capability names as the reference sends them: upper case with the `CAP_` prefix (`ALL` as is).
fn capabilities(caps: &[String]) -> Vec<String> {
    caps.iter()
        .map(|c| {
            let c = c.to_uppercase();
            if c == "ALL" || c.starts_with("CAP_") {
                c
            } else {
                format!("CAP_{c}")
            }
        })
        .collect()
}

fn some_vec(v: &[String]) -> Option<Vec<String>> {
    (!v.is_empty()).then(|| v.to_vec())
}

/// Builds the container for replica `number` of `svc`.
pub(super) fn container(
    project: &Project,
    svc: &Service,
    number: u64,
    image_id: &str,
) -> ContainerSpec {
    container_named(
        project,
        svc,
        number,
        container_name(&project.name, svc, number),
        image_id,
    )
}

/// The one-off container `name` of `run`: the service's container with the one-off labels,
/// standard input open when attached, and the service's aliases only when asked for.
pub(super) fn oneoff(
    project: &Project,
    svc: &Service,
    name: &str,
    slug: &str,
    image_id: &str,
    stdin: bool,
    use_aliases: bool,
) -> ContainerSpec {
    let mut spec = container_named(project, svc, 1, name.to_string(), image_id);
    spec.mac_address = None;
    if let Some(l) = spec.body.labels.as_mut() {
        l.insert(labels::ONEOFF.into(), "True".into());
        l.insert(labels::SLUG.into(), slug.to_string());
    }
    spec.body.attach_stdin = Some(stdin);
    spec.body.open_stdin = Some(stdin);
    spec.body.stdin_once = Some(stdin);
    let fix = |aliases: &mut Option<Vec<String>>| {
        if use_aliases {
            if let Some(a) = aliases.as_mut() {
                a.retain(|x| *x != svc.name);
                a.insert(0, svc.name.clone());
            }
        } else {
            *aliases = None;
        }
    };
    if let Some(eps) = spec
        .body
        .networking_config
        .as_mut()
        .and_then(|n| n.endpoints_config.as_mut())
    {
        for ep in eps.values_mut() {
            fix(&mut ep.aliases);
        }
    }
    for (_, ep) in spec.extra_networks.iter_mut() {
        fix(&mut ep.aliases);
    }
    spec
}

/// Builds a container of `svc` named `name` (a replica, or a one-off container).
pub(super) fn container_named(
    project: &Project,
    svc: &Service,
    number: u64,
    name: String,
    image_id: &str,
) -> ContainerSpec {
    let mut binds = Vec::new();
    let mut mounts = Vec::new();
    for v in &svc.volumes {
        let (b, m) = mount_of(project, v);
        binds.extend(b);
        mounts.extend(m);
    }
    for (kind, refs, defs) in [
        ("secret", &svc.secrets, &project.secrets),
        ("config", &svc.configs, &project.configs),
    ] {
        for r in refs {
            let Some(def) = defs.get(&r.source) else {
                continue;
            };
            let target = mount_target(kind, r);
            let source = match &def.file {
                Some(file) => file.clone(),
                None => secrets::host_path(
                    &super::private::secrets_path(),
                    &project.name,
                    &name,
                    &target,
                )
                .display()
                .to_string(),
            };
            mounts.push(Mount {
                typ: Some(MountType::BIND),
                source: Some(source),
                target: Some(target),
                read_only: Some(true),
                bind_options: Some(MountBindOptions::default()),
                ..Default::default()
            });
        }
    }
    let tmpfs: HashMap<String, String> = svc
        .tmpfs
        .iter()
        .map(|t| (t.path.clone(), t.options.clone().unwrap_or_default()))
        .collect();

    // As written (`6000` stays `6000`), like the reference.
    let mut exposed: Vec<String> = svc.expose.clone();
    let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for p in &svc.ports {
        let key = format!("{}/{}", p.target, p.protocol.as_deref().unwrap_or("tcp"));
        let bare = p.protocol.is_none().then(|| p.target.to_string());
        if !exposed.contains(&key) && bare.is_none_or(|b| !exposed.contains(&b)) {
            exposed.push(key.clone());
        }
        bindings
            .entry(key)
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(PortBinding {
                host_ip: p.host_ip.clone(),
                host_port: p.published.clone(),
            });
    }

    let limits = svc.deploy.as_ref().and_then(|d| d.resources.as_ref());
    let limit = limits.and_then(|r| r.limits.as_ref());
    let reservation = limits.and_then(|r| r.reservations.as_ref());
    let memory = limit.and_then(|l| l.memory).or(svc.mem_limit).map(|b| b.0);
    let cpus = limit.and_then(|l| l.cpus).or(svc.cpus);
    let pids = limit.and_then(|l| l.pids).or(svc.pids_limit);
    let mem_reservation = reservation
        .and_then(|r| r.memory)
        .or(svc.mem_reservation)
        .map(|b| b.0);

    let healthcheck = svc.healthcheck.as_ref().map(|h| HealthConfig {
        test: Some(if h.disable {
            vec!["NONE".to_string()]
        } else {
            h.test.clone()
        }),
        interval: h.interval.map(|d| d.0),
        timeout: h.timeout.map(|d| d.0),
        retries: h.retries.map(|r| r as i64),
        start_period: h.start_period.map(|d| d.0),
        start_interval: None,
    });

    let ordered = ordered_networks(svc);
    let network_mode = match &svc.network_mode {
        Some(m) => Some(namespace(project, m)),
        None => ordered
            .first()
            .map(|k| project.networks[k.as_str()].name.clone()),
    };
    let mut endpoints = HashMap::new();
    let mut extra_networks = Vec::new();
    if svc.network_mode.is_none() {
        for (i, key) in ordered.iter().enumerate() {
            let net = project.networks[key.as_str()].name.clone();
            let ep = endpoint(project, svc, key, &name);
            if i == 0 {
                endpoints.insert(net, ep);
            } else {
                extra_networks.push((net, ep));
            }
        }
    }

    let host_config = HostConfig {
        binds: some_vec(&binds),
        mounts: (!mounts.is_empty()).then_some(mounts),
        tmpfs: (!tmpfs.is_empty()).then_some(tmpfs),
        network_mode,
        port_bindings: Some(bindings),
        restart_policy: restart_policy(svc),
        init: svc.init,
        readonly_rootfs: Some(svc.read_only),
        privileged: Some(svc.privileged),
        memory,
        memory_swap: svc.memswap_limit.map(|b| b.0),
        memory_reservation: mem_reservation,
        nano_cpus: cpus.map(|c| (c * 1e9) as i64),
        cpu_shares: svc.cpu_shares,
        cpuset_cpus: svc.cpuset.clone(),
        pids_limit: pids,
        shm_size: svc.shm_size.map(|b| b.0),
        oom_kill_disable: svc.oom_kill_disable,
        cap_add: some_vec(&capabilities(&svc.cap_add)),
        cap_drop: some_vec(&capabilities(&svc.cap_drop)),
        security_opt: some_vec(&svc.security_opt),
        dns: some_vec(&svc.dns),
        dns_search: some_vec(&svc.dns_search),
        dns_options: some_vec(&svc.dns_opt),
        extra_hosts: Some(
            svc.extra_hosts
                .iter()
                .map(|h| format!("{}:{}", h.host, h.address))
                .collect(),
        ),
        group_add: some_vec(&svc.group_add),
        sysctls: (!svc.sysctls.is_empty()).then(|| {
            svc.sysctls
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        }),
        ulimits: (!svc.ulimits.is_empty()).then(|| {
            svc.ulimits
                .iter()
                .map(|(name, u)| {
                    let (soft, hard) = match u {
                        Ulimit::Single(n) => (*n, *n),
                        Ulimit::Pair { soft, hard } => (*soft, *hard),
                    };
                    ResourcesUlimits {
                        name: Some(name.clone()),
                        soft: Some(soft),
                        hard: Some(hard),
                    }
                })
                .collect()
        }),
        log_config: svc.logging.as_ref().map(|l| HostConfigLogConfig {
            typ: l.driver.clone(),
            config: Some(
                l.options
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
        }),
        ipc_mode: svc.ipc.as_ref().map(|m| namespace(project, m)),
        pid_mode: svc.pid.as_ref().map(|m| namespace(project, m)),
        // On user networks the engine only honours links given per endpoint (see `endpoint`).
        links: None,
        volumes_from: some_vec(
            &svc.volumes_from
                .iter()
                .map(|v| {
                    let name = match &v.source {
                        VolumesFromSource::Container(c) => c.clone(),
                        VolumesFromSource::Service(s) => project
                            .services
                            .get(s)
                            .map(|o| container_name(&project.name, o, 1))
                            .unwrap_or_else(|| s.clone()),
                    };
                    match &v.mode {
                        Some(m) => format!("{name}:{m}"),
                        None => name,
                    }
                })
                .collect::<Vec<_>>(),
        ),
        devices: (!svc.devices.is_empty()).then(|| {
            svc.devices
                .iter()
                .map(|d| DeviceMapping {
                    path_on_host: Some(d.source.clone()),
                    path_in_container: Some(d.target.clone()),
                    cgroup_permissions: Some(d.permissions.clone().unwrap_or_else(|| "rwm".into())),
                })
                .collect()
        }),
        ..Default::default()
    };

    let env: Vec<String> = svc
        .environment
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect();
    let body = ContainerCreateBody {
        image: Some(svc.image_name(&project.name)),
        cmd: svc.command.clone(),
        entrypoint: svc.entrypoint.clone(),
        env: Some(env),
        labels: Some(container_labels(project, svc, number, image_id)),
        hostname: svc.hostname.clone(),
        domainname: svc.domainname.clone(),
        user: svc.user.clone(),
        working_dir: svc.working_dir.clone(),
        tty: Some(svc.tty),
        open_stdin: Some(svc.stdin_open),
        attach_stdin: Some(false),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        stop_signal: svc.stop_signal.clone(),
        stop_timeout: svc.stop_grace_period.map(|d| (d.0 / 1_000_000_000).max(0)),
        exposed_ports: some_vec(&exposed),
        healthcheck,
        host_config: Some(host_config),
        networking_config: Some(NetworkingConfig {
            endpoints_config: Some(endpoints),
        }),
        ..Default::default()
    };
    ContainerSpec {
        name,
        body,
        extra_networks,
        mac_address: svc.mac_address.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{Network, ServiceNetwork};

    #[test]
    fn selinux_label_of_a_named_volume_reaches_the_bind() {
        let vols = crate::parse::canonical::cli_volumes(
            &["data:/d:z".to_string()],
            std::path::Path::new("/p"),
        )
        .expect("a mount");
        let (bind, mount) = mount_of(&Project::default(), &vols[0]);
        assert_eq!(bind.as_deref(), Some("data:/d:rw,z"));
        assert!(mount.is_none());
    }

    #[test]
    fn primary_network_and_aliases() {
        let mut p = Project {
            name: "p".into(),
            ..Default::default()
        };
        for k in ["back", "front"] {
            p.networks.insert(
                k.into(),
                Network {
                    name: format!("p_{k}"),
                    ..Default::default()
                },
            );
        }
        let mut s = Service {
            name: "web".into(),
            image: Some("img".into()),
            ..Default::default()
        };
        s.networks.insert(
            "front".into(),
            Some(ServiceNetwork {
                aliases: vec!["www".into()],
                ..Default::default()
            }),
        );
        s.networks.insert("back".into(), None);
        let spec = container(&p, &s, 1, "sha256:x");
        let hc = spec.body.host_config.unwrap();
        assert_eq!(hc.network_mode.as_deref(), Some("p_back"));
        assert_eq!(spec.extra_networks.len(), 1);
        assert_eq!(spec.extra_networks[0].0, "p_front");
        assert_eq!(
            spec.extra_networks[0].1.aliases.as_deref().unwrap(),
            ["p-web-1", "web", "www"]
        );
        let labels = spec.body.labels.unwrap();
        assert_eq!(labels[labels::PROJECT], "p");
        assert_eq!(labels[labels::NUMBER], "1");
        assert_eq!(labels[labels::ONEOFF], "False");
    }
}
