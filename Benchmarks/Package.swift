// swift-tools-version:6.1
//
// VMemLab's benchmarks, in their own package so that users of VMemLab never
// resolve package-benchmark. Run them with `make bench` or
// `swift package --package-path Benchmarks benchmark`.

import PackageDescription

let package = Package(
    name: "VMemLabBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "VMemLab", path: ".."),
        .package(url: "https://github.com/ordo-one/package-benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "TranslationBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "Translation", package: "VMemLab"),
            ],
            path: "Benchmarks/TranslationBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        .executableTarget(
            name: "TLBBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "Translation", package: "VMemLab"),
                .product(name: "TLB", package: "VMemLab"),
                .product(name: "Workloads", package: "VMemLab"),
            ],
            path: "Benchmarks/TLBBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        .executableTarget(
            name: "ShadowPagingBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "ShadowPaging", package: "VMemLab"),
                .product(name: "Workloads", package: "VMemLab"),
            ],
            path: "Benchmarks/ShadowPagingBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
    ]
)
