//! Early probing (see [`crate::graph::probe`]): the dependency's own healthcheck, run through
//! exec from the moment its container starts, at a short interval with back-off. Only a success
//! counts: a failing, erroring or slow probe is tried again, and the engine alone says unhealthy.

use futures::StreamExt;
use std::time::Duration;

use super::engine::{Engine, ExecRequest};
use crate::graph::probe::Probe;

/// The first wait between two probes, and the longest (under the engine's own `interval`).
const FIRST_GAP: Duration = Duration::from_millis(100);
const LONGEST_GAP: Duration = Duration::from_secs(2);

/// The gaps between probes: 100 ms growing by half each time, up to the shorter of 2 s and the
/// healthcheck's `interval`.
pub(super) fn gaps(interval: Duration) -> impl Iterator<Item = Duration> {
    let cap = interval.min(LONGEST_GAP);
    std::iter::successors(Some(FIRST_GAP.min(cap)), move |g| {
        Some((*g + *g / 2).min(cap))
    })
}

/// Resolves on the first probe of container `name` that exits 0; never resolves otherwise (the
/// caller drops it when the engine decides first).
pub(super) async fn until_success(engine: &dyn Engine, name: &str, probe: &Probe) {
    let mut gaps = gaps(probe.interval);
    loop {
        if let Ok(Ok(true)) = tokio::time::timeout(probe.timeout, once(engine, name, probe)).await {
            return;
        }
        let gap = gaps.next().unwrap_or(LONGEST_GAP);
        tokio::time::sleep(gap).await;
    }
}

/// One probe: the healthcheck's command as the engine runs it (the container's user, working
/// folder and environment), its output read and dropped; whether it exited 0.
async fn once(engine: &dyn Engine, name: &str, probe: &Probe) -> Result<bool, ()> {
    let request = ExecRequest {
        cmd: probe.command.clone(),
        attach_output: true,
        ..Default::default()
    };
    let id = engine.create_exec(name, &request).await.map_err(|_| ())?;
    if let Some(mut attached) = engine.start_exec(&id, false, false).await.map_err(|_| ())? {
        while let Some(chunk) = attached.output.next().await {
            if chunk.is_err() {
                break;
            }
        }
    }
    let code = engine.exec_exit_code(&id).await.map_err(|_| ())?;
    Ok(code == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_start_short_and_grow_to_the_interval_or_two_seconds() {
        let ms = |i: Duration| gaps(i).take(9).map(|d| d.as_millis()).collect::<Vec<_>>();
        assert_eq!(
            ms(Duration::from_secs(30)),
            [100, 150, 225, 337, 506, 759, 1139, 1708, 2000]
        );
        assert_eq!(
            ms(Duration::from_millis(500)),
            [100, 150, 225, 337, 500, 500, 500, 500, 500]
        );
    }
}
