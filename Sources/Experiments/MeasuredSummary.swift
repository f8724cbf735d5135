/// The median and spread of repeated measurements.
public struct MeasuredSummary: Sendable, Equatable {
    /// The samples, sorted.
    public let samples: [Double]
    public let median: Double
    /// The 25th and 75th percentiles (linear interpolation).
    public let p25: Double
    public let p75: Double
    public let mean: Double
    /// The coefficient of variation: standard deviation over mean (0 for one sample).
    public let coefficientOfVariation: Double

    /// The CoV above which a point is flagged as noisy.
    public static let highVariationThreshold = 0.10

    /// Summarizes `values`, which must not be empty.
    public init(_ values: [Double]) {
        precondition(!values.isEmpty, "a summary needs at least one sample")
        samples = values.sorted()
        median = Self.percentile(samples, 0.5)
        p25 = Self.percentile(samples, 0.25)
        p75 = Self.percentile(samples, 0.75)
        let average = samples.reduce(0, +) / Double(samples.count)
        mean = average
        if samples.count > 1, average != 0 {
            let variance = samples.reduce(0) { $0 + ($1 - average) * ($1 - average) } / Double(samples.count - 1)
            coefficientOfVariation = variance.squareRoot() / abs(average)
        } else {
            coefficientOfVariation = 0
        }
    }

    /// Whether the coefficient of variation is above the threshold.
    public var isNoisy: Bool { coefficientOfVariation > Self.highVariationThreshold }

    /// The `q` quantile of sorted `values`, interpolating between neighbours.
    public static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        let position = q * Double(sorted.count - 1)
        let low = Int(position.rounded(.down)), high = Int(position.rounded(.up))
        let fraction = position - Double(low)
        return sorted[low] + (sorted[high] - sorted[low]) * fraction
    }
}

/// Formats a measured number for CSV: fixed decimals, no exponent.
func csvNumber(_ value: Double, decimals: Int = 2) -> String {
    guard value.isFinite else { return "" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    var text = "\(rounded)"
    if text.hasSuffix(".0") && decimals == 0 { text.removeLast(2) }
    return text
}
