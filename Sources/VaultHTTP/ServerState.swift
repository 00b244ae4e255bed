import Foundation
import Synchronization

/// Prometheus text metrics: requests and latency by route and status, records ingested, refusals by rule, and
/// authentication failures by reason. Labels are route patterns, statuses and rule ids only: never a path with an
/// id in it, a principal or a body.
final class ServiceMetrics: Sendable {
    struct Key: Hashable, Sendable {
        var method: String
        var route: String
        var status: Int
    }
    struct Histogram: Sendable {
        var buckets: [Int]
        var sum: Double = 0
        var count = 0
    }
    struct State: Sendable {
        var requests: [Key: Int] = [:]
        var latency: [Key: Histogram] = [:]
        var recordsIngested = 0
        var batchesIngested = 0
        var refusals: [String: Int] = [:]
        var authFailures: [String: Int] = [:]
        var inFlight = 0
    }
    static let bounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
    let state = Mutex(State())

    func started() { state.withLock { $0.inFlight += 1 } }

    func finished(method: String, route: String, status: Int, seconds: Double) {
        state.withLock { s in
            let key = Key(method: method, route: route, status: status)
            s.inFlight -= 1
            s.requests[key, default: 0] += 1
            var histogram = s.latency[key] ?? Histogram(buckets: Array(repeating: 0, count: Self.bounds.count))
            for (i, bound) in Self.bounds.enumerated() where seconds <= bound { histogram.buckets[i] += 1 }
            histogram.sum += seconds
            histogram.count += 1
            s.latency[key] = histogram
        }
    }

    func ingested(records: Int) {
        state.withLock {
            $0.recordsIngested += records
            $0.batchesIngested += 1
        }
    }

    func refused(rule: String) { state.withLock { $0.refusals[rule, default: 0] += 1 } }
    func authenticationFailed(_ reason: String) { state.withLock { $0.authFailures[reason, default: 0] += 1 } }

    /// The Prometheus text exposition (format 0.0.4).
    func render() -> String {
        let s = state.withLock { $0 }
        func label(_ key: Key) -> String { "method=\"\(key.method)\",route=\"\(key.route)\",status=\"\(key.status)\"" }
        func number(_ x: Double) -> String { String(format: "%.6f", x) }
        var out = "# HELP eduvault_http_requests_total HTTP requests by method, route and status.\n"
        out += "# TYPE eduvault_http_requests_total counter\n"
        for (key, n) in s.requests.sorted(by: { label($0.key) < label($1.key) }) {
            out += "eduvault_http_requests_total{\(label(key))} \(n)\n"
        }
        out += "# HELP eduvault_http_request_duration_seconds HTTP request latency by method, route and status.\n"
        out += "# TYPE eduvault_http_request_duration_seconds histogram\n"
        for (key, h) in s.latency.sorted(by: { label($0.key) < label($1.key) }) {
            for (i, bound) in Self.bounds.enumerated() {
                out += "eduvault_http_request_duration_seconds_bucket{\(label(key)),le=\"\(bound)\"} \(h.buckets[i])\n"
            }
            out += "eduvault_http_request_duration_seconds_bucket{\(label(key)),le=\"+Inf\"} \(h.count)\n"
            out += "eduvault_http_request_duration_seconds_sum{\(label(key))} \(number(h.sum))\n"
            out += "eduvault_http_request_duration_seconds_count{\(label(key))} \(h.count)\n"
        }
        out += "# HELP eduvault_http_requests_in_flight Requests being served.\n# TYPE eduvault_http_requests_in_flight gauge\n"
        out += "eduvault_http_requests_in_flight \(s.inFlight)\n"
        out += "# HELP eduvault_records_ingested_total Records stored from uploaded batches.\n"
        out += "# TYPE eduvault_records_ingested_total counter\neduvault_records_ingested_total \(s.recordsIngested)\n"
        out += "# HELP eduvault_batches_ingested_total Batches stored from uploads.\n"
        out += "# TYPE eduvault_batches_ingested_total counter\neduvault_batches_ingested_total \(s.batchesIngested)\n"
        out += "# HELP eduvault_refusals_total Requests refused by a policy rule or a batch check, by rule.\n"
        out += "# TYPE eduvault_refusals_total counter\n"
        for (rule, n) in s.refusals.sorted(by: { $0.key < $1.key }) { out += "eduvault_refusals_total{rule=\"\(rule)\"} \(n)\n" }
        out += "# HELP eduvault_authentication_failures_total Requests refused before authentication, by reason.\n"
        out += "# TYPE eduvault_authentication_failures_total counter\n"
        for (reason, n) in s.authFailures.sorted(by: { $0.key < $1.key }) {
            out += "eduvault_authentication_failures_total{reason=\"\(reason)\"} \(n)\n"
        }
        return out
    }
}

/// A token bucket per principal.
final class RateLimiter: Sendable {
    struct Bucket: Sendable {
        var tokens: Double
        var updated: Double
    }
    let perSecond: Double
    let burst: Double
    let buckets = Mutex([String: Bucket]())

    init(perMinute: Int, burst: Int) {
        perSecond = Double(perMinute) / 60
        self.burst = Double(max(1, burst))
    }

    /// The `Retry-After` value for a wait: whole seconds, rounded up, at least 1.
    static func retryAfter(_ wait: Double) -> Int {
        guard wait.isFinite else { return 60 }
        return max(1, Int(min(wait, 86_400).rounded(.up)))
    }

    /// Takes one token for `principal`; the seconds until one is available when there is none.
    func take(_ principal: String, now: Double = Date().timeIntervalSince1970) -> Double? {
        buckets.withLock { all in
            var bucket = all[principal] ?? Bucket(tokens: burst, updated: now)
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.updated) * perSecond)
            bucket.updated = now
            defer { all[principal] = bucket }
            guard bucket.tokens >= 1 else { return (1 - bucket.tokens) / perSecond }
            bucket.tokens -= 1
            return nil
        }
    }
}

/// Set once graceful shutdown starts: new requests on open connections get 503 while in-flight ones finish.
final class ShutdownFlag: Sendable {
    let flag = Mutex(false)
    var isSet: Bool { flag.withLock { $0 } }
    func set() { flag.withLock { $0 = true } }
}
