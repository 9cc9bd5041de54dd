//! The dependency graph of the catalog: finding a cycle to name it, and cutting the stacks into
//! deployment waves, phase by phase.

use std::collections::{BTreeMap, BTreeSet};

use crate::naming::StackKey;

/// Stack → the stacks it needs. Every named upstream is a key (checked before).
pub(super) type Needs = BTreeMap<StackKey, BTreeSet<StackKey>>;

/// A cycle as a path that starts and ends with the same stack, if there is one. The search runs in
/// key order, so the same catalog always names the same cycle.
pub(super) fn find_cycle(needs: &Needs) -> Option<Vec<StackKey>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        OnPath,
        Done,
    }
    fn visit(
        stack: &StackKey,
        needs: &Needs,
        marks: &mut BTreeMap<StackKey, Mark>,
        path: &mut Vec<StackKey>,
    ) -> Option<Vec<StackKey>> {
        match marks.get(stack) {
            Some(Mark::Done) => return None,
            Some(Mark::OnPath) => {
                let start = path.iter().position(|s| s == stack)?;
                let mut cycle = path[start..].to_vec();
                cycle.push(stack.clone());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(stack.clone(), Mark::OnPath);
        path.push(stack.clone());
        for upstream in needs.get(stack).into_iter().flatten() {
            if let Some(cycle) = visit(upstream, needs, marks, path) {
                return Some(cycle);
            }
        }
        path.pop();
        marks.insert(stack.clone(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for stack in needs.keys() {
        let mut path = Vec::new();
        if let Some(cycle) = visit(stack, needs, &mut marks, &mut path) {
            return Some(cycle);
        }
    }
    None
}

/// Waves of an acyclic graph whose dependencies never point to a later phase. Phases are
/// barriers: every wave holds stacks of one phase, and a phase starts after the previous one
/// ends. Inside a phase a stack goes one wave after the latest of its upstreams; a wave lists its
/// stacks in key order.
pub(super) fn waves(needs: &Needs, phase_of: &BTreeMap<StackKey, u32>) -> Vec<Vec<StackKey>> {
    fn depth(
        stack: &StackKey,
        needs: &Needs,
        phase_of: &BTreeMap<StackKey, u32>,
        memo: &mut BTreeMap<StackKey, usize>,
    ) -> usize {
        if let Some(d) = memo.get(stack) {
            return *d;
        }
        let phase = phase_of.get(stack);
        let d = needs
            .get(stack)
            .into_iter()
            .flatten()
            .filter(|upstream| phase_of.get(*upstream) == phase)
            .map(|upstream| depth(upstream, needs, phase_of, memo) + 1)
            .max()
            .unwrap_or(0);
        memo.insert(stack.clone(), d);
        d
    }
    let mut by_phase: BTreeMap<u32, BTreeMap<usize, Vec<StackKey>>> = BTreeMap::new();
    let mut memo = BTreeMap::new();
    for (stack, phase) in phase_of {
        let d = depth(stack, needs, phase_of, &mut memo);
        by_phase
            .entry(*phase)
            .or_default()
            .entry(d)
            .or_default()
            .push(stack.clone());
    }
    by_phase
        .into_values()
        .flat_map(BTreeMap::into_values)
        .collect()
}
