/// The service's OpenAPI 3.1 document, served at `GET /openapi.yaml`.
///
/// Must equal `Sources/VaultHTTP/openapi.yaml` byte for byte (a test checks it). After editing the YAML, regenerate
/// this constant by pasting the file between the delimiters below (the blank line before the closing delimiter keeps the
/// file's final newline).
enum OpenAPIDocument {
    static let yaml = #"""
openapi: 3.1.0
info:
  title: EduVault service
  version: 1.0.0
  summary: A privacy-preserving vault for student scores, as a network service (`eduvault serve`).
  description: >-
    Schools upload signed batches of Paillier-encrypted scores, the bureau asks aggregate queries and receives
    encrypted releases the policy allows, auditors read the signed, verifiable log. Every request under /v1 is signed
    with its caller's Ed25519 key (RFC 9421 HTTP Message Signatures, alg ed25519, keyid = principal id; covered
    components "@method", "@target-uri" and "content-digest" (RFC 9530, sha-256, also for an empty body); parameters
    created and nonce). A signature created more than 300 s ago or more than 60 s ahead, a nonce seen within that
    window (also across restarts: seen nonces are journalled in the vault directory), a body that does not match its
    Content-Digest, and an unknown or revoked key are refused with 401. A request needs exactly one Host of the form
    host[:port] naming this server (its --authority names, or its own listen address and port; 400 otherwise); a
    header section over 16 KiB, or a signature header over 4 KiB, is refused with 431;
    a JSON body with an unknown or repeated key is refused with 400. What each role (school, bureau, auditor, custodian, operator) may do comes from the vault policy's ROLES rule; a denial is 403
    citing the rule and is written to the audit log. Errors are RFC 9457 problem details with one line of text.
  license:
    name: Proprietary
    identifier: LicenseRef-EduVault
servers:
  - url: http://127.0.0.1:8443
    description: the default loopback address of `eduvault serve`
security:
  - httpMessageSignature: []
tags:
  - name: school
  - name: bureau
  - name: auditor
  - name: custodian
  - name: operator
  - name: public
paths:
  /v1/batches:
    post:
      operationId: uploadBatch
      tags: [school]
      summary: Upload a batch file (school; only batches signed for the signing school).
      requestBody:
        required: true
        description: The batch file exactly as `eduvault school encrypt` wrote it (eduvault-batch/1, signed by the school).
        content:
          application/octet-stream:
            schema:
              type: string
              format: binary
      responses:
        '201':
          description: The batch was verified and stored with its audit entry; its receipt.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Receipt'}
        '200':
          description: The same batch was already stored; the original receipt.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Receipt'}
        '400': {$ref: '#/components/responses/Problem'}
        '401': {$ref: '#/components/responses/Problem'}
        '403': {$ref: '#/components/responses/Problem'}
        '408': {$ref: '#/components/responses/Problem'}
        '409': {$ref: '#/components/responses/Problem'}
        '413': {$ref: '#/components/responses/Problem'}
        '431': {$ref: '#/components/responses/Problem'}
        '422': {$ref: '#/components/responses/Problem'}
        '429': {$ref: '#/components/responses/Problem'}
        '503': {$ref: '#/components/responses/Problem'}
  /v1/receipts/{id}:
    get:
      operationId: getReceipt
      tags: [school]
      summary: A receipt of a batch the signing school uploaded.
      parameters:
        - {$ref: '#/components/parameters/BatchID'}
      responses:
        '200':
          description: The receipt.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Receipt'}
        '400': {$ref: '#/components/responses/Problem'}
        '401': {$ref: '#/components/responses/Problem'}
        '403': {$ref: '#/components/responses/Problem'}
        '404': {$ref: '#/components/responses/Problem'}
        '413': {$ref: '#/components/responses/Problem'}
        '431': {$ref: '#/components/responses/Problem'}
        '429': {$ref: '#/components/responses/Problem'}
        '503': {$ref: '#/components/responses/Problem'}
  /v1/queries:
    post:
      operationId: runQuery
      tags: [bureau]
      summary: Ask an aggregate query; the release the policy allows, or a refusal citing the rule.
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Query'}
      responses:
        '201':
          description: The release (encrypted sums and counts per released cell, withheld cells with their rule).
          headers:
            Location:
              schema: {type: string}
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Release'}
        '400': {$ref: '#/components/responses/Problem'}
        '401': {$ref: '#/components/responses/Problem'}
        '403': {$ref: '#/components/responses/Problem'}
        '408': {$ref: '#/components/responses/Problem'}
        '413': {$ref: '#/components/responses/Problem'}
        '431': {$ref: '#/components/responses/Problem'}
        '422': {$ref: '#/components/responses/Problem'}
        '429': {$ref: '#/components/responses/Problem'}
        '503': {$ref: '#/components/responses/Problem'}
  /v1/models:
    post:
      operationId: runModel
      tags: [bureau]
      summary: Ask for a model (regression, ANOVA, random intercept); the model release, or a refusal citing the rule.
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/ModelSpec'}
      responses:
        '201':
          description: The model release (encrypted block sums and public counts).
          headers:
            Location:
              schema: {type: string}
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ModelRelease'}
        '400': {$ref: '#/components/responses/Problem'}
        '401': {$ref: '#/components/responses/Problem'}
        '403': {$ref: '#/components/responses/Problem'}
        '408': {$ref: '#/components/responses/Problem'}
        '413': {$ref: '#/components/responses/Problem'}
        '422': {$ref: '#/components/responses/Problem'}
        '429': {$ref: '#/components/responses/Problem'}
        '503': {$ref: '#/components/responses/Problem'}
  /v1/releases/{id}:
    get:
      operationId: getRelease
      tags: [bureau, auditor]
      summary: A stored release, exactly the bytes its log entry binds.
      parameters:
        - name: id
          in: path
          required: true
          schema: {type: string, maxLength: 128}
      responses:
        '200':
          description: The release.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Release'}
        '400': {$ref: '#/components/responses/Problem'}
        '401': {$ref: '#/components/responses/Problem'}
        '403': {$ref: '#/components/responses/Problem'}
        '404': {$ref: '#/components/responses/Problem'}
        '413': {$ref: '#/components/responses/Problem'}
        '431': {$ref: '#/components/responses/Problem'}
        '429': {$ref: '#/components/responses/Problem'}
        '503': {$ref: '#/components/responses/Problem'}
  /v1/releases/{id}/shares:
    post:
      operationId: postShare
      tags: [bureau, auditor, custodian]
      summary: Post one's own partial decryption of a release (a party of the vault's threshold key).
      description: >-
        The body is the partial decryption file exactly as `eduvault release share` writes it. The vault reads it with
        the decoder `release decrypt --threshold` uses, accepts it only from the member whose name is the partial's
        party (403 otherwise), and checks it against its threshold key before storing it with a release.share audit
        entry: this key and ceremony, this release and its digest, the release's unit layout and every unit's proof
        (422 naming the party otherwise). Each party posts one partial per release: the same decryption again (the
        same values, even with fresh proofs) is answered with the stored receipt (200); a different one is 409. A vault
        whose key is one bureau key, or a threshold vault that does not hold its threshold.json, answers 409.
      parameters:
        - name: id
          in: path
          required: true
          schema: {type: string, maxLength: 128}
      requestBody:
        required: true
        description: An eduvault-partial/1 file (at most 4 MiB).
        content:
          application/json:
            schema: {$ref: '#/components/schemas/PartialDecryption'}
      responses:
        '201':
          description: The partial was verified and stored with its audit entry.
          headers:
            Location:
              schema: {type: string}
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ShareReceipt'}
        '200':
          description: The party already posted this decryption; the stored receipt (nothing was written).
          headers:
            Location:
              schema: {type: string}
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ShareReceipt'}
        '400': {$ref: '#/components/responses/Problem'}
        '401': {$ref: '#/components/responses/Problem'}
        '403': {$ref: '#/components/responses/Problem'}
        '404': {$ref: '#/components/responses/Problem'}
        '408': {$ref: '#/components/responses/Problem'}
        '409': {$ref: '#/components/responses/Problem'}
        '413': {$ref: '#/components/responses/Problem'}
        '431': {$ref: '#/components/responses/Problem'}
        '422': {$ref: '#/components/responses/Problem'}
        '429': {$ref: '#/components/responses/Problem'}
        '503': {$ref: '#/components/responses/Problem'}
    get:
      operationId: getShares
      tags: [bureau]
      summary: The partial decryptions posted for a release, to combine them (ROLES action release.decrypt).
      parameters:
        - name: id
          in: path
          required: true
          schema: {type: string, maxLength: 128}
      responses:
        '200':
          description: Every partial the vault accepted for the release, in the order they arrived (none yet is an empty list).
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ReleaseShares'}
        '400': {$ref: '#/components/responses/Problem'}
        '401': {$ref: '#/components/responses/Problem'}
        '403': {$ref: '#/components/responses/Problem'}
        '404': {$ref: '#/components/responses/Problem'}
        '409': {$ref: '#/components/responses/Problem'}
        '413': {$ref: '#/components/responses/Problem'}
        '431': {$ref: '#/components/responses/Problem'}
        '429': {$ref: '#/components/responses/Problem'}
        '503': {$ref: '#/components/responses/Problem'}
  /v1/status:
    get:
      operationId: getStatus
      tags: [operator, auditor]
      summary: Schools, record counts, key, policy, log length and disclosure state (counts only).
      responses:
        '200':
          description: The status.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Status'}
        '400': {$ref: '#/components/responses/Problem'}
        '401': {$ref: '#/components/responses/Problem'}
        '403': {$ref: '#/components/responses/Problem'}
        '413': {$ref: '#/components/responses/Problem'}
        '431': {$ref: '#/components/responses/Problem'}
        '429': {$ref: '#/components/responses/Problem'}
        '503': {$ref: '#/components/responses/Problem'}
  /v1/log/checkpoint:
    get:
      operationId: getCheckpoint
      tags: [auditor]
      summary: The latest signed checkpoint (C2SP signed note) with witnesses' cosignatures.
      responses:
        '200':
          description: The checkpoint.
          content:
            text/plain:
              schema: {type: string}
        '400': {$ref: '#/components/responses/Problem'}
        '401': {$ref: '#/components/responses/Problem'}
        '403': {$ref: '#/components/responses/Problem'}
        '404': {$ref: '#/components/responses/Problem'}
        '413': {$ref: '#/components/responses/Problem'}
        '431': {$ref: '#/components/responses/Problem'}
        '429': {$ref: '#/components/responses/Problem'}
        '503': {$ref: '#/components/responses/Problem'}
  /v1/log/entries:
    get:
      operationId: getEntries
      tags: [auditor]
      summary: Log entries with start ≤ index < end (at most 1000).
      parameters:
        - name: start
          in: query
          schema: {type: integer, minimum: 1}
        - name: end
          in: query
          schema: {type: integer, minimum: 2}
      responses:
        '200':
          description: The entries and the log's size.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/EntriesPage'}
        '400': {$ref: '#/components/responses/Problem'}
        '401': {$ref: '#/components/responses/Problem'}
        '403': {$ref: '#/components/responses/Problem'}
        '413': {$ref: '#/components/responses/Problem'}
        '431': {$ref: '#/components/responses/Problem'}
        '429': {$ref: '#/components/responses/Problem'}
        '503': {$ref: '#/components/responses/Problem'}
  /v1/log/proofs/inclusion:
    get:
      operationId: getInclusionProof
      tags: [auditor]
      summary: The RFC 9162 inclusion proof of entry index (1-based) in the tree of size entries.
      parameters:
        - name: index
          in: query
          required: true
          schema: {type: integer, minimum: 1}
        - name: size
          in: query
          required: true
          schema: {type: integer, minimum: 1}
      responses:
        '200':
          description: The audit path, base64 hashes.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Proof'}
        '400': {$ref: '#/components/responses/Problem'}
        '401': {$ref: '#/components/responses/Problem'}
        '403': {$ref: '#/components/responses/Problem'}
        '404': {$ref: '#/components/responses/Problem'}
        '413': {$ref: '#/components/responses/Problem'}
        '431': {$ref: '#/components/responses/Problem'}
        '429': {$ref: '#/components/responses/Problem'}
        '503': {$ref: '#/components/responses/Problem'}
  /v1/log/proofs/consistency:
    get:
      operationId: getConsistencyProof
      tags: [auditor]
      summary: The RFC 9162 consistency proof between the trees of from and to entries.
      parameters:
        - name: from
          in: query
          required: true
          schema: {type: integer, minimum: 1}
        - name: to
          in: query
          required: true
          schema: {type: integer, minimum: 1}
      responses:
        '200':
          description: The proof, base64 hashes.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Proof'}
        '400': {$ref: '#/components/responses/Problem'}
        '401': {$ref: '#/components/responses/Problem'}
        '403': {$ref: '#/components/responses/Problem'}
        '404': {$ref: '#/components/responses/Problem'}
        '413': {$ref: '#/components/responses/Problem'}
        '431': {$ref: '#/components/responses/Problem'}
        '429': {$ref: '#/components/responses/Problem'}
        '503': {$ref: '#/components/responses/Problem'}
  /v1/audit/tables:
    get:
      operationId: getAuditTables
      tags: [auditor]
      summary: The tables an auditor checks against the log (checkpoints, cosignatures, schools, releases, atoms, purges).
      responses:
        '200':
          description: The tables.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/AuditTables'}
        '400': {$ref: '#/components/responses/Problem'}
        '401': {$ref: '#/components/responses/Problem'}
        '403': {$ref: '#/components/responses/Problem'}
        '413': {$ref: '#/components/responses/Problem'}
        '431': {$ref: '#/components/responses/Problem'}
        '429': {$ref: '#/components/responses/Problem'}
        '503': {$ref: '#/components/responses/Problem'}
  /v1/audit/records/{batch}:
    get:
      operationId: getBatchRecords
      tags: [auditor]
      summary: A batch's stored records (pseudonyms, attributes, ciphertexts), to re-derive its record root.
      parameters:
        - {$ref: '#/components/parameters/Batch'}
      responses:
        '200':
          description: The records, in stored order.
          content:
            application/json:
              schema:
                type: array
                items: {$ref: '#/components/schemas/RecordRow'}
        '400': {$ref: '#/components/responses/Problem'}
        '401': {$ref: '#/components/responses/Problem'}
        '403': {$ref: '#/components/responses/Problem'}
        '404': {$ref: '#/components/responses/Problem'}
        '413': {$ref: '#/components/responses/Problem'}
        '431': {$ref: '#/components/responses/Problem'}
        '429': {$ref: '#/components/responses/Problem'}
        '503': {$ref: '#/components/responses/Problem'}
  /v1/audit/leaves/{batch}:
    get:
      operationId: getBatchLeaves
      tags: [auditor]
      summary: A batch's stored record leaves (hex), kept after a purge.
      parameters:
        - {$ref: '#/components/parameters/Batch'}
      responses:
        '200':
          description: The leaves, in batch order.
          content:
            application/json:
              schema:
                type: object
                required: [leaves]
                properties:
                  leaves:
                    type: array
                    items: {type: string, pattern: '^[0-9a-f]{64}$'}
        '400': {$ref: '#/components/responses/Problem'}
        '401': {$ref: '#/components/responses/Problem'}
        '403': {$ref: '#/components/responses/Problem'}
        '404': {$ref: '#/components/responses/Problem'}
        '413': {$ref: '#/components/responses/Problem'}
        '431': {$ref: '#/components/responses/Problem'}
        '429': {$ref: '#/components/responses/Problem'}
        '503': {$ref: '#/components/responses/Problem'}
  /healthz:
    get:
      operationId: health
      tags: [public]
      summary: Liveness (unsigned).
      security: []
      responses:
        '200':
          description: Serving.
          content:
            application/json:
              schema:
                type: object
                required: [status]
                properties:
                  status: {const: ok}
        '503': {$ref: '#/components/responses/Problem'}
  /metrics:
    get:
      operationId: metrics
      tags: [public]
      summary: Prometheus metrics (unsigned; route patterns, statuses and rule ids only).
      security: []
      responses:
        '200':
          description: The Prometheus text exposition.
          content:
            text/plain:
              schema: {type: string}
        '503': {$ref: '#/components/responses/Problem'}
  /openapi.yaml:
    get:
      operationId: openapi
      tags: [public]
      summary: This document (unsigned).
      security: []
      responses:
        '200':
          description: The OpenAPI 3.1 document.
          content:
            application/yaml:
              schema: {type: object}
        '503': {$ref: '#/components/responses/Problem'}
components:
  securitySchemes:
    httpMessageSignature:
      type: apiKey
      in: header
      name: Signature
      description: >-
        RFC 9421: Signature-Input sig1=("@method" "@target-uri" "content-digest");created=<unix s>;keyid="<principal
        id>";alg="ed25519";nonce="<16+ chars>", Signature sig1=:<base64 Ed25519 signature>:, Content-Digest
        sha-256=:<base64>: (RFC 9530). No passwords, no bearer tokens.
  parameters:
    BatchID:
      name: id
      in: path
      required: true
      description: The batch id (its content hash, 64 hex digits).
      schema: {type: string, maxLength: 128}
    Batch:
      name: batch
      in: path
      required: true
      description: The batch id (64 hex digits).
      schema: {type: string, maxLength: 128}
  responses:
    Problem:
      description: >-
        RFC 9457 problem details with one line of text. After a 400, 401, 403, 404, 405, 408, 413, 429 or 431 the
        server closes the connection.
      headers:
        Connection:
          description: close, after a refused request (and while shutting down).
          schema: {type: string}
        Retry-After:
          description: With 429, the whole seconds until the principal's next request is allowed (at least 1).
          schema: {type: integer, minimum: 1}
      content:
        application/problem+json:
          schema: {$ref: '#/components/schemas/Problem'}
  schemas:
    Problem:
      type: object
      required: [type, title, status, detail]
      properties:
        type: {type: string}
        title: {type: string}
        status: {type: integer}
        detail: {type: string}
        rule:
          type: string
          description: The policy rule that refused the request (ROLES, ATTR-ALLOW, DP-BUDGET, …).
    Receipt:
      type: object
      required: [batch_id, school_id, record_count, content_hash, log_index, received_at, already_stored]
      properties:
        batch_id: {type: string}
        school_id: {type: string}
        record_count: {type: integer}
        content_hash: {type: string}
        log_index: {type: integer}
        received_at: {type: string}
        already_stored: {type: boolean}
    Query:
      type: object
      required: [by, filters]
      properties:
        by:
          type: array
          items: {type: string}
        filters:
          type: object
          additionalProperties: {type: string}
        contrast: {type: string}
    ModelSpec:
      type: object
      required: [formula, filters]
      properties:
        formula: {type: string, description: 'statsmodels formula, main effects only: score ~ program + prior_score'}
        filters:
          type: object
          additionalProperties: {type: string}
        random: {type: string, description: school or a school attribute}
        contrast: {type: string, description: a two-level categorical term of the model}
    ModelRelease:
      type: object
      required: [format, id, vault, key_id, model, policy, created, log_index, scale, layout, numeric, categorical,
                 total, levels, pair_counts]
      properties:
        format: {type: string, const: eduvault-release-model/1}
        id: {type: string}
        vault: {type: string}
        key_id: {type: string}
        model: {$ref: '#/components/schemas/ModelSpec'}
        policy:
          type: object
        created: {type: string}
        log_index: {type: integer}
        scale: {type: integer}
        layout:
          type: object
        numeric:
          type: array
          items: {type: string}
        categorical:
          type: array
          items:
            type: object
        total:
          type: object
        levels:
          type: array
        pair_counts:
          type: array
        random:
          type: object
    Release:
      type: object
      required: [format, id, vault, key_id, query, policy, created, log_index, cells, suppressed]
      properties:
        format: {type: string}
        id: {type: string}
        vault: {type: string}
        key_id: {type: string}
        query: {$ref: '#/components/schemas/Query'}
        policy:
          type: object
        created: {type: string}
        log_index: {type: integer}
        cells:
          type: array
          items: {type: object}
        suppressed:
          type: array
          items: {type: object}
    PartialDecryption:
      type: object
      required: [format, release, release_sha256, vault, key_id, ceremony, party, index, cell_bits, cells_per_unit, units,
                 created]
      properties:
        format: {type: string, const: eduvault-partial/1}
        release: {type: string}
        release_sha256: {type: string}
        vault: {type: string}
        key_id: {type: string}
        ceremony: {type: string}
        party: {type: string}
        index: {type: integer}
        cell_bits: {type: integer}
        cells_per_unit: {type: integer}
        units:
          type: array
          items:
            type: object
            required: [first_cell, cell_count, value, challenge, response]
            properties:
              first_cell: {type: integer}
              cell_count: {type: integer}
              value: {type: string, description: 'c_i, decimal'}
              challenge: {type: string, description: 'e, 64 hex digits'}
              response: {type: string, description: 'z, decimal'}
        created: {type: string}
    ShareReceipt:
      type: object
      required: [release, party, sha256, log_index, received, already_stored]
      properties:
        release: {type: string}
        party: {type: string}
        sha256: {type: string}
        log_index: {type: integer}
        received: {type: string}
        already_stored: {type: boolean}
    ReleaseShares:
      type: object
      required: [release, partials]
      properties:
        release: {type: string}
        partials:
          type: array
          items:
            type: object
            required: [party, sha256, log_index, received, partial]
            properties:
              party: {type: string}
              sha256: {type: string, description: SHA-256 of the partial's UTF-8 bytes}
              log_index: {type: integer}
              received: {type: string}
              partial: {type: string, contentMediaType: application/json, description: the posted file, byte for byte}
    Status:
      type: object
      required: [vault_id, key, policy, schools, records, total_records, batches, audit, file_bytes, disclosure]
      properties:
        vault_id: {type: string}
        key: {type: object}
        custody:
          type: object
          description: The key's custody under a threshold key (absent for one bureau key).
          required: [kind, threshold, parties, ceremony, verification_keys_sha256]
          properties:
            kind: {type: string, enum: [threshold]}
            threshold: {type: integer}
            parties: {type: array, items: {type: string}}
            ceremony: {type: string}
            verification_keys_sha256: {type: string}
        policy: {type: object}
        schools:
          type: array
          items: {type: object}
        records:
          type: array
          items: {type: object}
        total_records: {type: integer}
        batches: {type: integer}
        audit: {type: object}
        file_bytes: {type: integer}
        disclosure: {type: object}
        covariates:
          type: array
          description: The schema's numeric covariates, bounds as decimals (absent without covariates).
          items:
            type: object
            required: [name, min, max]
            properties:
              name: {type: string}
              min: {type: string}
              max: {type: string}
        ciphertexts_per_record: {type: integer, description: 'Ciphertexts each record carries (absent without covariates).'}
    EntriesPage:
      type: object
      required: [entries, size]
      properties:
        size: {type: integer}
        entries:
          type: array
          items:
            type: object
            required: [index, time, kind, details, prev_hash, hash]
            properties:
              index: {type: integer}
              time: {type: string}
              kind: {type: string}
              details:
                type: object
                additionalProperties: {type: string}
              prev_hash: {type: string}
              hash: {type: string}
    Proof:
      type: object
      required: [hashes]
      properties:
        hashes:
          type: array
          items: {type: string}
    RecordRow:
      type: object
    AuditTables:
      type: object
      required: [checkpoints, cosignatures, schools, releases, atoms, purged]
      properties:
        checkpoints: {type: array, items: {type: object}}
        cosignatures: {type: array, items: {type: object}}
        schools: {type: array, items: {type: object}}
        releases: {type: array, items: {type: object}}
        atoms: {type: array, items: {type: object}}
        purged: {type: array, items: {type: object}}

"""#
}
