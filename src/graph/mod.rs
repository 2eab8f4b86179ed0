//! The dependency graph of services (petgraph) and the plans that `up` and `down` execute.

#[cfg(test)]
pub(crate) mod fixture;
pub mod hash;
pub mod images;
pub mod lifecycle;
pub mod observed;
pub mod oneoff;
pub mod plan;
pub mod probe;
pub mod ready;
pub mod reconcile;
pub mod secrets;
pub mod stop;
pub mod swarm;
pub mod volumes;

use indexmap::IndexMap;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;
use std::fmt;

use crate::parse::Project;

/// The one service selection of every command: the services `named` (every enabled service
/// when none), with everything they depend on (transitively, in file order) when `with_deps`.
pub fn select(project: &Project, named: &[String], with_deps: bool) -> Result<Vec<String>, Cycle> {
    if named.is_empty() {
        return Ok(project.services.keys().cloned().collect());
    }
    if !with_deps {
        return Ok(named.to_vec());
    }
    Ok(ServiceGraph::of(project)?.with_dependencies(named))
}

/// A dependency cycle, as the path that closes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle(pub Vec<String>);

impl fmt::Display for Cycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "dependency cycle: {}", self.0.join(" -> "))
    }
}

impl std::error::Error for Cycle {}

/// Services and their `depends_on` edges (an edge goes from a service to a dependency).
#[derive(Debug, Clone)]
pub struct ServiceGraph {
    graph: DiGraph<String, ()>,
    index: IndexMap<String, NodeIndex>,
}

impl ServiceGraph {
    /// Builds the graph from `service -> dependencies`; dependencies that are not services are
    /// left out (the loader has already rejected the required ones).
    pub fn new(deps: &IndexMap<String, Vec<String>>) -> Result<Self, Cycle> {
        let mut graph = DiGraph::new();
        let mut index = IndexMap::new();
        for name in deps.keys() {
            index.insert(name.clone(), graph.add_node(name.clone()));
        }
        for (name, ds) in deps {
            for d in ds {
                if let Some(&to) = index.get(d) {
                    graph.add_edge(index[name], to, ());
                }
            }
        }
        let known = |n: &str| -> Vec<&str> {
            let ds = deps.get(n).map(Vec::as_slice).unwrap_or_default();
            ds.iter()
                .map(String::as_str)
                .filter(|d| index.contains_key(*d))
                .collect()
        };
        if let Some(c) = crate::parse::validate::find_cycle(deps.keys().map(String::as_str), known)
        {
            return Err(Cycle(c));
        }
        Ok(ServiceGraph { graph, index })
    }

    /// The graph of a project's enabled services.
    pub fn of(project: &Project) -> Result<Self, Cycle> {
        let deps = project
            .services
            .iter()
            .map(|(n, s)| {
                let mut d: Vec<String> = s.depends_on.keys().cloned().collect();
                // Implicit: links, `service:` namespaces, volumes_from.
                for x in reconcile::shared_services(s) {
                    if project.services.contains_key(&x) && !d.contains(&x) {
                        d.push(x);
                    }
                }
                (n.clone(), d)
            })
            .collect();
        Self::new(&deps)
    }

    pub fn services(&self) -> impl Iterator<Item = &str> {
        self.index.keys().map(String::as_str)
    }

    /// The services `name` depends on.
    pub fn dependencies(&self, name: &str) -> Vec<&str> {
        self.neighbours(name, Direction::Outgoing)
    }

    /// The services that depend on `name`.
    pub fn dependents(&self, name: &str) -> Vec<&str> {
        self.neighbours(name, Direction::Incoming)
    }

    fn neighbours(&self, name: &str, dir: Direction) -> Vec<&str> {
        let Some(&i) = self.index.get(name) else {
            return vec![];
        };
        let mut v: Vec<NodeIndex> = self.graph.neighbors_directed(i, dir).collect();
        v.sort();
        v.into_iter().map(|n| self.graph[n].as_str()).collect()
    }

    /// `names` and everything they depend on, transitively, in file order.
    pub fn with_dependencies(&self, names: &[String]) -> Vec<String> {
        let mut seen: std::collections::HashSet<&str> = Default::default();
        let mut stack: Vec<&str> = names.iter().map(String::as_str).collect();
        while let Some(n) = stack.pop() {
            if seen.insert(n) {
                stack.extend(self.dependencies(n));
            }
        }
        self.services()
            .filter(|s| seen.contains(s))
            .map(str::to_string)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deps(edges: &[(&str, &[&str])]) -> IndexMap<String, Vec<String>> {
        edges
            .iter()
            .map(|(n, ds)| (n.to_string(), ds.iter().map(|d| d.to_string()).collect()))
            .collect()
    }

    #[test]
    fn cycle_path_is_printed() {
        let err = ServiceGraph::new(&deps(&[
            ("a", &["b"]),
            ("b", &["c"]),
            ("c", &["a"]),
            ("d", &[]),
        ]))
        .unwrap_err();
        assert_eq!(err.to_string(), "dependency cycle: a -> b -> c -> a");
        let err = ServiceGraph::new(&deps(&[("a", &["a"])])).unwrap_err();
        assert_eq!(err.0, vec!["a", "a"]);
    }

    #[test]
    fn neighbours_and_closure() {
        let g = ServiceGraph::new(&deps(&[
            ("web", &["api"]),
            ("api", &["db", "cache"]),
            ("db", &[]),
            ("cache", &[]),
            ("x", &[]),
        ]))
        .unwrap();
        assert_eq!(g.dependencies("api"), vec!["db", "cache"]);
        assert_eq!(g.dependents("db"), vec!["api"]);
        assert_eq!(
            g.with_dependencies(&["web".into()]),
            vec!["web", "api", "db", "cache"]
        );
    }
}
