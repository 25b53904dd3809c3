//! Which steps may start now: a ready set over the topological order.
//!
//! A step is ready when every step it depends on succeeded (or was reused).
//! Ready steps start in topological order while fewer than `parallelism` run.
//! GPUs are handed out lowest ids first; a ready step that needs more GPUs
//! than are free waits, and no later GPU step may overtake it (so a 2-GPU
//! step is not starved by a stream of 1-GPU steps), while steps without GPUs
//! still start. A failure does not stop the run: its dependents never start,
//! but every other step still starts once its own dependencies succeed, as
//! Argo v3.3 schedules a DAG (its `failFast` lets ready tasks start while any
//! node runs, and a task becomes ready in the reconciliation that completes
//! its dependency; argo-workflows#5223). After [`Scheduler::stop`] (Ctrl-C)
//! nothing new starts. The run ends when nothing runs. Pure logic, no
//! processes: the engine drives it and unit tests drive it directly.

/// Where a step is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Slot {
    Waiting,
    Running(Vec<u32>),
    Succeeded,
    Failed,
}

/// The scheduler's state.
#[derive(Debug, Clone)]
pub(crate) struct Scheduler {
    deps: Vec<Vec<usize>>,
    gpus: Vec<u32>,
    slots: Vec<Slot>,
    free_gpus: Vec<u32>,
    parallelism: usize,
    running: usize,
    stopped: bool,
}

impl Scheduler {
    /// Steps `0..n` with their dependencies (indices) and GPU needs; `done`
    /// marks steps already succeeded (reused from a resumed run).
    pub(crate) fn new(
        deps: Vec<Vec<usize>>,
        gpus: Vec<u32>,
        total_gpus: u32,
        parallelism: usize,
        done: &[bool],
    ) -> Scheduler {
        let slots = (0..deps.len())
            .map(|i| {
                if done.get(i).copied().unwrap_or(false) {
                    Slot::Succeeded
                } else {
                    Slot::Waiting
                }
            })
            .collect();
        Scheduler {
            deps,
            gpus,
            slots,
            free_gpus: (0..total_gpus).collect(),
            parallelism: parallelism.max(1),
            running: 0,
            stopped: false,
        }
    }

    /// The steps to start now, each with the GPU ids it gets; they count as running.
    pub(crate) fn start_ready(&mut self) -> Vec<(usize, Vec<u32>)> {
        let mut started = Vec::new();
        if self.stopped {
            return started;
        }
        let mut gpu_blocked = false;
        for i in 0..self.slots.len() {
            if self.running >= self.parallelism {
                break;
            }
            if self.slots[i] != Slot::Waiting || !self.ready(i) {
                continue;
            }
            let need = self.gpus.get(i).copied().unwrap_or(0) as usize;
            if need > 0 && (gpu_blocked || self.free_gpus.len() < need) {
                gpu_blocked = true;
                continue;
            }
            let taken: Vec<u32> = self.free_gpus.drain(..need).collect();
            self.slots[i] = Slot::Running(taken.clone());
            self.running += 1;
            started.push((i, taken));
        }
        started
    }

    fn ready(&self, i: usize) -> bool {
        self.deps[i]
            .iter()
            .all(|&d| self.slots.get(d) == Some(&Slot::Succeeded))
    }

    /// Step `i` ended; its GPUs are free again. A failure blocks only its dependents.
    pub(crate) fn finish(&mut self, i: usize, success: bool) {
        if let Some(Slot::Running(gpus)) = self.slots.get(i) {
            self.free_gpus.extend(gpus);
            self.free_gpus.sort_unstable();
            self.running -= 1;
        }
        if let Some(slot) = self.slots.get_mut(i) {
            *slot = if success {
                Slot::Succeeded
            } else {
                Slot::Failed
            };
        }
    }

    /// Starts nothing more (Ctrl-C).
    pub(crate) fn stop(&mut self) {
        self.stopped = true;
    }

    /// How many steps run now.
    pub(crate) fn running(&self) -> usize {
        self.running
    }

    /// Steps that never started.
    pub(crate) fn unstarted(&self) -> Vec<usize> {
        (0..self.slots.len())
            .filter(|&i| self.slots[i] == Slot::Waiting)
            .collect()
    }

    /// The first failed step that `i` depends on, directly or not.
    pub(crate) fn failed_dependency(&self, i: usize) -> Option<usize> {
        let mut stack = self.deps.get(i)?.clone();
        let mut seen = vec![false; self.slots.len()];
        while let Some(d) = stack.pop() {
            if std::mem::replace(&mut seen[d], true) {
                continue;
            }
            if self.slots[d] == Slot::Failed {
                return Some(d);
            }
            stack.extend(&self.deps[d]);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(started: &[(usize, Vec<u32>)]) -> Vec<usize> {
        started.iter().map(|(i, _)| *i).collect()
    }

    #[test]
    fn independent_steps_start_together_up_to_parallelism() {
        let mut s = Scheduler::new(vec![vec![], vec![], vec![]], vec![0; 3], 0, 2, &[]);
        assert_eq!(ids(&s.start_ready()), [0, 1]);
        assert!(s.start_ready().is_empty());
        s.finish(0, true);
        assert_eq!(ids(&s.start_ready()), [2]);
    }

    #[test]
    fn a_failure_blocks_its_dependents_but_not_the_other_steps() {
        // 0 -> 1 -> 2, and 3 -> 4 independent (Argo v3.3 starts 3 and 4 too)
        let deps = vec![vec![], vec![0], vec![1], vec![], vec![3]];
        let mut s = Scheduler::new(deps, vec![0; 5], 0, 1, &[]);
        assert_eq!(ids(&s.start_ready()), [0]);
        s.finish(0, true);
        assert_eq!(ids(&s.start_ready()), [1]);
        s.finish(1, false);
        assert_eq!(ids(&s.start_ready()), [3]);
        s.finish(3, true);
        assert_eq!(ids(&s.start_ready()), [4]);
        s.finish(4, true);
        assert!(s.start_ready().is_empty());
        assert_eq!(s.running(), 0);
        assert_eq!(s.unstarted(), [2]);
        assert_eq!(s.failed_dependency(2), Some(1));
        assert_eq!(s.failed_dependency(3), None);
    }

    #[test]
    fn nothing_starts_after_stop() {
        let mut s = Scheduler::new(vec![vec![], vec![]], vec![0; 2], 0, 1, &[]);
        assert_eq!(ids(&s.start_ready()), [0]);
        s.stop();
        s.finish(0, true);
        assert!(s.start_ready().is_empty());
        assert_eq!(s.unstarted(), [1]);
    }

    #[test]
    fn gpus_are_shared_and_a_big_step_is_not_overtaken() {
        // two 1-GPU steps, a 2-GPU step, then another 1-GPU step and a CPU step
        let deps = vec![vec![]; 5];
        let mut s = Scheduler::new(deps, vec![1, 1, 2, 1, 0], 2, 8, &[]);
        let first = s.start_ready();
        assert_eq!(first, [(0, vec![0]), (1, vec![1]), (4, vec![])]);
        s.finish(0, true);
        // one GPU free: step 2 needs two and waits; step 3 may not overtake it
        assert!(s.start_ready().is_empty());
        s.finish(1, true);
        assert_eq!(s.start_ready(), [(2, vec![0, 1])]);
        s.finish(2, true);
        assert_eq!(s.start_ready(), [(3, vec![0])]);
    }

    #[test]
    fn reused_steps_count_as_succeeded() {
        let mut s = Scheduler::new(vec![vec![], vec![0]], vec![0, 0], 0, 4, &[true, false]);
        assert_eq!(ids(&s.start_ready()), [1]);
    }
}
