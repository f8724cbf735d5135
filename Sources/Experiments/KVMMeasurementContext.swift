import Foundation
import KVM

/// What every KVM measurement shares: the device, its CPUID, the host's
/// description and the measured TSC frequency.
public struct KVMMeasurementContext: Sendable {
    public let device: KVMDevice
    public let cpuid: CPUIDTable
    public let environment: HostEnvironment
    /// The TSC frequency in Hz, measured against CLOCK_MONOTONIC_RAW.
    public let tscHz: Double
    /// Fewer points and repetitions.
    public let quick: Bool
    /// The seed of the permutations.
    public let seed: UInt64

    /// Opens the device and measures the TSC. Throws a clear
    /// `KVMError.deviceUnavailable` where there is no KVM.
    public init(devicePath: String = KVMDevice.defaultPath, quick: Bool, seed: UInt64) throws {
        device = try KVMDevice(path: devicePath)
        cpuid = try device.supportedCPUID()
        environment = HostEnvironment.detect()
        tscHz = TimeStampCounter.measureFrequency()
        self.quick = quick
        self.seed = seed
    }

    /// Why KVM measurements cannot run here, or nil when they can.
    public static func unavailableReason(devicePath: String = KVMDevice.defaultPath) -> String? {
        do {
            _ = try KVMDevice(path: devicePath)
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// Converts TSC cycles to nanoseconds.
    public func nanoseconds(cycles: Double) -> Double { cycles / tscHz * 1e9 }

    /// The columns written on every row after the measurement's own.
    public static let environmentColumns = HostEnvironment.columns + ["tsc_hz"]

    /// This host's values for `environmentColumns`.
    public var environmentFields: [String] { environment.fields + [csvNumber(tscHz, decimals: 0)] }
}
