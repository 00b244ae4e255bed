import Foundation
import Hummingbird
import NIOCore
import Primitives
import Synchronization
import VaultAggregation
import VaultApp
import VaultAudit
import VaultModel
import VaultStore

/// The route handlers: parse, call the application layer, answer. No handler holds a use case's logic.
struct Handlers: Sendable {
    let server: ServerContext
    var service: VaultService { server.service }

    func register(on router: Router<VaultRequestContext>) {
        for spec in RouteSpec.all {
            let path = RouterPath(spec.pattern.replacingOccurrences(of: "{", with: ":").replacingOccurrences(of: "}", with: ""))
            let method: HTTPRequest.Method = spec.method == "POST" ? .post : .get
            router.on(path, method: method) { request, context in try await handle(spec.pattern, request, context) }
        }
    }

    func handle(_ pattern: String, _ request: Request, _ context: VaultRequestContext) async throws -> Response {
        switch pattern {
        case "/v1/batches": return try await uploadBatch(request, context)
        case "/v1/receipts/{id}":
            guard let school = context.principal?.schoolID else { throw AppError(.notFound, "no such receipt") }
            return try json(try await service.receipt(batchID: context.parameters.get("id") ?? "", school: school))
        case "/v1/queries": return try await query(context)
        case "/v1/models": return try await model(context)
        case "/v1/releases/{id}":
            return raw(try await service.releaseFile(id: context.parameters.get("id") ?? ""), type: "application/json")
        case "/v1/releases/{id}/shares":
            if request.method == .get { return try json(try await service.shares(releaseID: context.parameters.get("id") ?? "")) }
            return try await postShare(context)
        case "/v1/status": return try json(try await service.statusAsync())
        case "/v1/log/checkpoint":
            return raw(Array(try await service.checkpoint().utf8), type: "text/plain; charset=utf-8")
        case "/v1/log/entries":
            return try json(try await service.entries(start: try integer(request, "start") ?? 1, end: try integer(request, "end")))
        case "/v1/log/proofs/inclusion":
            guard let index = try integer(request, "index"), let size = try integer(request, "size") else {
                throw AppError(.badRequest, "give index and size")
            }
            return try json(try await service.inclusionProof(index: index, size: size))
        case "/v1/log/proofs/consistency":
            guard let from = try integer(request, "from"), let to = try integer(request, "to") else {
                throw AppError(.badRequest, "give from and to")
            }
            return try json(try await service.consistencyProof(from: from, to: to))
        case "/v1/audit/tables": return try json(try await service.auditTables())
        case "/v1/audit/records/{batch}": return try json(try await service.records(batch: context.parameters.get("batch") ?? ""))
        case "/v1/audit/leaves/{batch}": return try json(try await service.leaves(batch: context.parameters.get("batch") ?? ""))
        case "/healthz": return raw(Array(#"{"status":"ok"}"#.utf8), type: "application/json")
        case "/metrics": return raw(Array(server.metrics.render().utf8), type: "text/plain; version=0.0.4; charset=utf-8")
        case "/openapi.yaml": return raw(Array(OpenAPIDocument.yaml.utf8), type: "application/yaml")
        default: throw AppError(.notFound, "no such route")
        }
    }

    /// `POST /v1/batches`: the body streams into a file in the vault's `incoming/` directory (hashed as it arrives,
    /// at most `--max-batch-mb`), is checked against the signed digest, then ingested in one transaction with its
    /// audit entry. The file is removed whatever happens; a crash leaves only it, never part of a batch.
    func uploadBatch(_ request: Request, _ context: VaultRequestContext) async throws -> Response {
        guard let principal = context.principal, let digest = context.signedDigest else {
            throw AppError(.unauthorized, "the request is not signed")
        }
        guard let school = principal.schoolID else {
            throw AppError(.forbidden, "only a school uploads batches, signed with its own key")
        }
        let limit = server.configuration.maxBatchBytes
        let timeout = server.configuration.requestTimeoutSeconds
        let destination = server.incoming.appendingPathComponent("upload.batch")
        let writer: AtomicFile.Writer
        do { writer = try AtomicFile.begin(for: destination, mode: 0o600) } catch {
            throw AppError(.unavailable, "the vault cannot store the upload (\(error.reason)); nothing was stored")
        }
        var hasher = SHA256Hasher()
        var size = 0
        let started = ContinuousClock.now
        let deadline = started + .seconds(timeout)
        for try await chunk in request.body {
            size += chunk.readableBytes
            guard size <= limit else { throw AppError(.tooLarge, "the batch is larger than --max-batch-mb (\(limit >> 20) MB)") }
            chunk.withUnsafeReadableBytes { hasher.update(raw: $0) }
            do { try writer.write(chunk.readableBytesView) } catch {
                throw AppError(.unavailable, "the vault cannot store the upload (disk full?); nothing was stored")
            }
            guard ContinuousClock.now < deadline else {
                throw AppError(.timeout, "the batch took longer than \(timeout) s to arrive")
            }
        }
        let received = ContinuousClock.now
        context.notes.values.withLock {
            $0.bytes = size
            $0.bodyMs = (received - started).seconds * 1000
        }
        guard hasher.finalize() == digest else {
            server.metrics.authenticationFailed("digest_mismatch")
            throw AppError(.unauthorized, "the body does not match the signed Content-Digest")
        }
        let receipt: Receipt
        do { receipt = try await service.ingestUpload(batchAt: writer.temporary, school: school) } catch {
            if error.code == .unprocessable || error.code == .conflict || error.code == .forbidden {
                let reason = error.message.split(separator: "(").dropFirst().first?.split(separator: ")").first.map(String.init)
                server.metrics.refused(rule: reason ?? "batch")
            }
            throw error
        }
        _ = consume writer
        context.notes.values.withLock { $0.workMs = (ContinuousClock.now - received).seconds * 1000 }
        if !receipt.alreadyStored { server.metrics.ingested(records: receipt.recordCount) }
        var response = try json(receipt)
        response.status = receipt.alreadyStored ? .ok : .created
        response.headers[.location] = "/v1/receipts/\(receipt.batchID)"
        return response
    }

    /// `POST /v1/queries`: a JSON query (`by`, `filters`, `contrast`), answered with the release JSON (201).
    func query(_ context: VaultRequestContext) async throws -> Response {
        let body = context.body ?? ByteBuffer()
        let normalised = try ServiceRequest.query(body.readableBytesView)
        let (release, json) = try await service.queryRelease(normalised)
        var response = raw(json, type: "application/json")
        response.status = .created
        response.headers[.location] = "/v1/releases/\(release.id)"
        return response
    }

    /// `POST /v1/models`: a JSON model (`formula`, `filters`, `random`, `contrast`), answered with the model release
    /// JSON (201).
    func model(_ context: VaultRequestContext) async throws -> Response {
        let body = context.body ?? ByteBuffer()
        let asked: ModelSpec
        do { asked = try JSONDecoder().decode(ModelSpec.self, from: Data(body.readableBytesView)) } catch {
            throw AppError(.badRequest, "the body must be a JSON model: {\"formula\": \"score ~ program + prior_score\", "
                           + "\"filters\": {\"subject\": \"math\"}, \"random\": \"school\"}")
        }
        let spec: ModelSpec
        do {
            spec = try ModelSpec(model: asked.formula,
                                 whereClauses: asked.filters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" },
                                 random: asked.random, contrast: asked.contrast)
        } catch { throw AppError(.badRequest, error.message) }
        let (release, json) = try await service.modelRelease(spec)
        var response = raw(json, type: "application/json")
        response.status = .created
        response.headers[.location] = "/v1/releases/\(release.id)"
        return response
    }

    /// `POST /v1/releases/{id}/shares`: a party's partial decryption, verified and stored (201), or the same partial
    /// posted again (200).
    func postShare(_ context: VaultRequestContext) async throws -> Response {
        guard let principal = context.principal else { throw AppError(.unauthorized, "the request is not signed") }
        let id = context.parameters.get("id") ?? ""
        let body = context.body ?? ByteBuffer()
        let receipt = try await service.postShare(releaseID: id, body: Array(body.readableBytesView), member: principal)
        var response = try json(receipt)
        response.status = receipt.alreadyStored ? .ok : .created
        response.headers[.location] = "/v1/releases/\(receipt.release)/shares"
        return response
    }

    func integer(_ request: Request, _ name: String) throws(AppError) -> Int64? {
        guard let text = request.uri.queryParameters.get(name) else { return nil }
        guard text.utf8.count <= 12, let value = Int64(text) else { throw AppError(.badRequest, "\(name) must be an integer") }
        return value
    }

    func json(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do { data = try encoder.encode(value) } catch { throw AppError(.unavailable, "the answer cannot be encoded") }
        return raw(Array(data), type: "application/json")
    }

    func raw(_ bytes: [UInt8], type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
