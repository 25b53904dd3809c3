//! Which ready instances may start now.
//!
//! The [`Plan`](super::plan::Plan) says when an instance is ready (its
//! dependencies ended, its condition holds); the scheduler decides when it
//! starts. Ready instances start in the order they were queued (instance
//! ids: topological order, then iterations and passes in order) while fewer
//! than `parallelism` run. GPUs are handed out lowest ids first; a ready
//! instance that needs more GPUs than are free waits, and no later GPU
//! instance may overtake it (so a 2-GPU step is not starved by a stream of
//! 1-GPU steps), while instances without GPUs still start. A failure does
//! not stop the run: the plan blocks only its dependents and every other
//! instance still starts, as Argo v3.3 schedules a DAG (its `failFast` lets
//! ready tasks start while any node runs, and a task becomes ready in the
//! reconciliation that completes its dependency; argo-workflows#5223).
//! After [`Scheduler::stop`] (Ctrl-C) nothing new starts until
//! [`Scheduler::resume`] (the `finally` steps). Pure logic, no processes:
//! the engine drives it and unit tests drive it directly.

use std::collections::BTreeMap;

/// The scheduler's state.
#[derive(Debug, Clone)]
pub(crate) struct Scheduler {
    /// Ready, not started: id → GPUs needed, in id order.
    queued: BTreeMap<usize, u32>,
    /// Started: id → the GPU ids it holds.
    running: BTreeMap<usize, Vec<u32>>,
    free_gpus: Vec<u32>,
    parallelism: usize,
    stopped: bool,
}

impl Scheduler {
    /// An empty scheduler for a machine with `total_gpus`, at most `parallelism` at once.
    pub(crate) fn new(total_gpus: u32, parallelism: usize) -> Scheduler {
        Scheduler {
            queued: BTreeMap::new(),
            running: BTreeMap::new(),
            free_gpus: (0..total_gpus).collect(),
            parallelism: parallelism.max(1),
            stopped: false,
        }
    }

    /// Instance `id` is ready and needs `gpus` GPUs.
    pub(crate) fn queue(&mut self, id: usize, gpus: u32) {
        self.queued.insert(id, gpus);
    }

    /// The instances to start now, each with the GPU ids it gets; they count as running.
    pub(crate) fn start_ready(&mut self) -> Vec<(usize, Vec<u32>)> {
        let mut started = Vec::new();
        if self.stopped {
            return started;
        }
        let mut gpu_blocked = false;
        let queued: Vec<(usize, u32)> = self.queued.iter().map(|(&i, &g)| (i, g)).collect();
        for (id, need) in queued {
            if self.running.len() >= self.parallelism {
                break;
            }
            let need = need as usize;
            if need > 0 && (gpu_blocked || self.free_gpus.len() < need) {
                gpu_blocked = true;
                continue;
            }
            let taken: Vec<u32> = self.free_gpus.drain(..need).collect();
            self.queued.remove(&id);
            self.running.insert(id, taken.clone());
            started.push((id, taken));
        }
        started
    }

    /// Instance `id` ended; its GPUs are free again.
    pub(crate) fn finish(&mut self, id: usize) {
        if let Some(gpus) = self.running.remove(&id) {
            self.free_gpus.extend(gpus);
            self.free_gpus.sort_unstable();
        }
    }

    /// Starts nothing more (Ctrl-C).
    pub(crate) fn stop(&mut self) {
        self.stopped = true;
    }

    /// Starts again what is queued from now on (the `finally` steps after a Ctrl-C).
    pub(crate) fn resume(&mut self) {
        self.stopped = false;
    }

    /// How many instances run now.
    pub(crate) fn running(&self) -> usize {
        self.running.len()
    }

    /// Takes back every queued instance that never started.
    pub(crate) fn unstarted(&mut self) -> Vec<usize> {
        std::mem::take(&mut self.queued).into_keys().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(started: &[(usize, Vec<u32>)]) -> Vec<usize> {
        started.iter().map(|(i, _)| *i).collect()
    }

    fn scheduler(gpus: &[u32], total: u32, parallelism: usize) -> Scheduler {
        let mut s = Scheduler::new(total, parallelism);
        for (id, need) in gpus.iter().enumerate() {
            s.queue(id, *need);
        }
        s
    }

    #[test]
    fn ready_instances_start_together_up_to_parallelism() {
        let mut s = scheduler(&[0, 0, 0], 0, 2);
        assert_eq!(ids(&s.start_ready()), [0, 1]);
        assert!(s.start_ready().is_empty());
        s.finish(0);
        assert_eq!(ids(&s.start_ready()), [2]);
    }

    #[test]
    fn instances_queued_later_start_in_id_order() {
        let mut s = scheduler(&[0], 0, 1);
        assert_eq!(ids(&s.start_ready()), [0]);
        s.queue(7, 0);
        s.queue(3, 0);
        s.finish(0);
        assert_eq!(ids(&s.start_ready()), [3]);
        s.finish(3);
        assert_eq!(ids(&s.start_ready()), [7]);
    }

    #[test]
    fn nothing_starts_after_stop_until_resume() {
        let mut s = scheduler(&[0, 0], 0, 1);
        assert_eq!(ids(&s.start_ready()), [0]);
        s.stop();
        s.finish(0);
        assert!(s.start_ready().is_empty());
        assert_eq!(s.running(), 0);
        assert_eq!(s.unstarted(), [1]);
        s.queue(2, 0);
        s.resume();
        assert_eq!(ids(&s.start_ready()), [2]);
    }

    #[test]
    fn gpus_are_shared_and_a_big_step_is_not_overtaken() {
        // two 1-GPU instances, a 2-GPU one, then another 1-GPU one and a CPU one
        let mut s = scheduler(&[1, 1, 2, 1, 0], 2, 8);
        let first = s.start_ready();
        assert_eq!(first, [(0, vec![0]), (1, vec![1]), (4, vec![])]);
        s.finish(0);
        // one GPU free: instance 2 needs two and waits; instance 3 may not overtake it
        assert!(s.start_ready().is_empty());
        s.finish(1);
        assert_eq!(s.start_ready(), [(2, vec![0, 1])]);
        s.finish(2);
        assert_eq!(s.start_ready(), [(3, vec![0])]);
    }

    #[test]
    fn loop_iterations_share_the_gpus() {
        // three iterations of a 1-GPU step on a 2-GPU machine
        let mut s = scheduler(&[1, 1, 1], 2, 8);
        assert_eq!(s.start_ready(), [(0, vec![0]), (1, vec![1])]);
        s.finish(1);
        assert_eq!(s.start_ready(), [(2, vec![1])]);
    }
}
