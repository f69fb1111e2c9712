//! The process's CPU time, for CPU per message.

use std::time::Duration;

/// CPU time this process has used so far, summed over its threads (Linux
/// `/proc/self/task/*/schedstat`: nanoseconds on CPU, finer than `/proc/self/stat`'s
/// 10 ms ticks); `None` elsewhere. Reading procfs does not wait on a device: the kernel
/// writes these files from memory, so this is no blocking call in async code.
pub(super) fn cpu_time() -> Option<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let path = task.ok()?.path().join("schedstat");
        let Ok(text) = std::fs::read_to_string(path) else {
            continue; // the thread exited meanwhile
        };
        total += text.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_reads_proc_on_linux_and_grows() {
        if cfg!(target_os = "linux") {
            let a = cpu_time().unwrap();
            let mut x = 0u64;
            for i in 0..5_000_000u64 {
                x = x.wrapping_mul(31).wrapping_add(i);
            }
            std::hint::black_box(x);
            assert!(cpu_time().unwrap() > a);
        } else {
            assert!(cpu_time().is_none());
        }
    }
}
