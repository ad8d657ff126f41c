//! [`BufferPool`]: recycled f32 buffers, so a steady training loop allocates no new large buffers.
//!
//! A [`crate::Graph`] takes every buffer it needs (values, gradients, saved masks) from a pool
//! and gives them all back when it is dropped. The next step with the same shapes finds each
//! buffer it needs already there.

use std::collections::HashMap;

/// Buffers of f32, kept by length for reuse.
#[derive(Debug, Default)]
pub struct BufferPool {
    free: HashMap<usize, Vec<Vec<f32>>>,
    fresh_allocations: usize,
}

impl BufferPool {
    /// An empty pool.
    pub fn new() -> BufferPool {
        BufferPool::default()
    }

    /// A buffer of `len` elements with unspecified contents (the caller overwrites them all).
    pub fn take(&mut self, len: usize) -> Vec<f32> {
        if let Some(buf) = self.free.get_mut(&len).and_then(Vec::pop) {
            return buf;
        }
        self.fresh_allocations += 1;
        vec![0.0; len]
    }

    /// A buffer of `len` zeros.
    pub fn take_zeroed(&mut self, len: usize) -> Vec<f32> {
        let mut buf = self.take(len);
        buf.fill(0.0);
        buf
    }

    /// Gives a buffer back for reuse.
    pub fn give(&mut self, buf: Vec<f32>) {
        if buf.capacity() > 0 {
            self.free.entry(buf.len()).or_default().push(buf);
        }
    }

    /// How many buffers the pool had to allocate because none of the right length was free.
    /// In a steady loop this stops growing after the first step.
    pub fn fresh_allocations(&self) -> usize {
        self.fresh_allocations
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_buffers_of_the_same_length() {
        let mut pool = BufferPool::new();
        let a = pool.take(100);
        let b = pool.take(50);
        assert_eq!(pool.fresh_allocations(), 2);
        pool.give(a);
        pool.give(b);
        let c = pool.take_zeroed(100);
        assert_eq!(c.len(), 100);
        assert!(c.iter().all(|&x| x == 0.0));
        assert_eq!(pool.fresh_allocations(), 2);
    }
}
