// swift-tools-version:6.1
//
// VMemLab: address-translation models and KVM measurements for memory
// virtualization research. See docs/ARCHITECTURE.md for the module map.

import PackageDescription

let package = Package(
    name: "VMemLab",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "vmemlab", targets: ["vmemlab"]),
        .library(name: "Translation", targets: ["Translation"]),
        .library(name: "TLB", targets: ["TLB"]),
        .library(name: "Workloads", targets: ["Workloads"]),
        .library(name: "ShadowPaging", targets: ["ShadowPaging"]),
        .library(name: "GuestMemory", targets: ["GuestMemory"]),
        .library(name: "KVM", targets: ["KVM"]),
        .library(name: "Experiments", targets: ["Experiments"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // MARK: Portable models (Translation is pure Swift; CCPUID reads CPUID for the `host` TLB preset)
        .target(name: "Translation"),
        .target(name: "CCPUID"),
        .target(name: "TLB", dependencies: ["Translation", "Workloads", "CCPUID", "TOMLKit"]),
        .target(name: "Workloads", dependencies: ["Translation"]),
        .target(name: "ShadowPaging", dependencies: ["Translation", "TLB", "Workloads"]),

        // MARK: Linux: guest memory and the KVM runner
        .systemLibrary(
            name: "CNUMA",
            pkgConfig: nil,
            providers: [.apt(["libnuma-dev"])]
        ),
        .target(name: "CNUMAShim"),
        .target(name: "GuestMemory", dependencies: ["CNUMA", "CNUMAShim", "Translation"]),
        .target(name: "CKVM"),
        .target(name: "KVM", dependencies: ["CKVM", "Translation", "GuestMemory"]),

        // MARK: Experiments and the command line
        .target(
            name: "Experiments",
            dependencies: ["Translation", "TLB", "Workloads", "ShadowPaging", "GuestMemory", "KVM", "TOMLKit"]
        ),
        .target(
            name: "VMemLabCommands",
            dependencies: [
                "Translation", "TLB", "Workloads", "ShadowPaging", "GuestMemory", "KVM", "Experiments",
                "TOMLKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "vmemlab", dependencies: ["VMemLabCommands"]),

        // MARK: Tests
        .target(name: "VMemLabTestSupport", dependencies: ["Translation", "TLB"], path: "Tests/VMemLabTestSupport"),
        .testTarget(name: "TranslationTests", dependencies: ["Translation", "VMemLabTestSupport"]),
        .testTarget(name: "TLBTests", dependencies: ["TLB", "Workloads", "VMemLabTestSupport"]),
        .testTarget(name: "WorkloadsTests", dependencies: ["Workloads", "VMemLabTestSupport"]),
        .testTarget(name: "ShadowPagingTests", dependencies: ["ShadowPaging", "Experiments", "TLB", "VMemLabTestSupport"]),
        .target(name: "CGuestMemoryTestSupport", path: "Tests/CGuestMemoryTestSupport"),
        .testTarget(name: "GuestMemoryTests", dependencies: ["GuestMemory", "Translation", "CGuestMemoryTestSupport"]),
        .testTarget(name: "KVMTests", dependencies: ["KVM", "TLB", "Experiments", "VMemLabCommands", "VMemLabTestSupport"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "VMemLabTestSupport", "vmemlab"]),
        .testTarget(name: "VMemLabCommandsTests", dependencies: ["VMemLabCommands", "VMemLabTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
