import CKVM
import Glibc

/// The time-stamp counter and its measured frequency.
public enum TimeStampCounter {
    /// The counter now (rdtsc between lfences).
    public static func now() -> UInt64 { ckvm_rdtsc() }

    /// Measures the TSC frequency in Hz against `CLOCK_MONOTONIC_RAW`: the
    /// median of `samples` windows of `window` seconds each.
    public static func measureFrequency(window: Double = 0.02, samples: Int = 5) -> Double {
        var rates: [Double] = []
        for _ in 0..<max(samples, 1) {
            let startTime = rawNanoseconds(), startTicks = ckvm_rdtsc()
            let goal = startTime + UInt64(window * 1e9)
            var endTime = startTime
            while endTime < goal { endTime = rawNanoseconds() }
            let endTicks = ckvm_rdtsc()
            rates.append(Double(endTicks - startTicks) / (Double(endTime - startTime) / 1e9))
        }
        rates.sort()
        return rates[rates.count / 2]
    }

    static func rawNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC_RAW, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
