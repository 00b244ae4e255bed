import CCurl
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import VaultApp

/// One request through libcurl directly: with a private CA file (`--ca-cert`, servers with a self-signed
/// certificate), and for batch uploads. URLSession on Linux hands its requests to the same libcurl but cannot be told a
/// CA file, and its upload path is costly; everything else about the request (signature headers, body, limits) is the
/// same as on the URLSession path.
enum CurlTransport {
    /// The response body, collected by libcurl's write callback (bounded).
    final class Sink {
        var data = Data()
        var overflow = false
    }

    static func check(_ code: CURLcode, _ what: String) throws(AppError) {
        guard code == CURLE_OK else {
            let reason = String(cString: curl_easy_strerror(code))
            throw AppError(.unavailable, "cannot reach the server (\(what): \(reason))")
        }
    }

    /// Performs `request` (blocking), trusting only the certificates in `caFile` when it is not empty (else the system
    /// trust store).
    static func perform(_ request: URLRequest, caFile: String, timeoutSeconds: Int, maxBytes: Int)
        -> Result<VaultHTTPClient.Response, AppError>
    {
        Result { () throws(AppError) -> VaultHTTPClient.Response in
            guard let url = request.url?.absoluteString, let handle = curl_easy_init() else {
                throw AppError(.unavailable, "libcurl could not start a request")
            }
            defer { curl_easy_cleanup(handle) }
            // libcurl copies string options.
            try check(url.withCString { ecurl_setopt_pointer(handle, CURLOPT_URL, $0) }, "URL")
            if !caFile.isEmpty {
                try check(caFile.withCString { ecurl_setopt_pointer(handle, CURLOPT_CAINFO, $0) }, "CA file")
            }
            try check(ecurl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1), "verify peer")
            try check(ecurl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2), "verify host")
            try check(ecurl_setopt_long(handle, CURLOPT_PROTOCOLS, Int(CURLPROTO_HTTP | CURLPROTO_HTTPS)), "protocols")
            try check(ecurl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0), "redirects")
            try check(ecurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1), "signals")
            try check(ecurl_setopt_long(handle, CURLOPT_TIMEOUT, timeoutSeconds), "timeout")
            let body = request.httpBody ?? Data()
            if request.httpMethod == "POST" {
                try check(ecurl_setopt_long(handle, CURLOPT_POST, 1), "POST")
                try check(ecurl_setopt_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)), "body size")
                let bytes = [UInt8](body) + [0]  // never an empty buffer; the size above says how much is sent
                try check(bytes.withUnsafeBytes { ecurl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) }, "body")
            } else {
                try check(ecurl_setopt_long(handle, CURLOPT_HTTPGET, 1), "GET")
            }
            var list: UnsafeMutablePointer<curl_slist>? = nil
            defer { curl_slist_free_all(list) }
            var lines = (request.allHTTPHeaderFields ?? [:]).map { "\($0.key): \($0.value)" }
            lines.append("Expect:")
            for line in lines {
                guard let next = curl_slist_append(list, line) else { throw AppError(.unavailable, "libcurl: out of memory") }
                list = next
            }
            try check(ecurl_setopt_pointer(handle, CURLOPT_HTTPHEADER, list), "headers")
            let sink = Sink()
            let context = Unmanaged.passRetained(sink)
            defer { context.release() }
            try check(ecurl_setopt_pointer(handle, CURLOPT_WRITEDATA, context.toOpaque()), "sink")
            let write: ecurl_write_callback = { data, size, count, context in
                guard let data, let context else { return 0 }
                let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
                let bytes = size * count
                guard sink.data.count + bytes <= 512 << 20 else {
                    sink.overflow = true
                    return 0
                }
                data.withMemoryRebound(to: UInt8.self, capacity: bytes) { sink.data.append($0, count: bytes) }
                return bytes
            }
            try check(ecurl_setopt_write(handle, CURLOPT_WRITEFUNCTION, write), "write callback")
            try check(curl_easy_perform(handle), "request")
            guard !sink.overflow, sink.data.count <= maxBytes else { throw AppError(.unavailable, "the response is too large") }
            var status = 0
            try check(ecurl_response_code(handle, &status), "status")
            return VaultHTTPClient.Response(status: status, body: sink.data, contentType: nil)
        }
    }
}
