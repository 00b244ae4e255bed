/// The default policy, embedded so `eduvault vault init` works from any directory.
///
/// Must equal `Policies/default.yaml` byte for byte (a CLI test checks it); when the file changes, regenerate this
/// constant from it.
enum DefaultPolicy {
    /// The YAML text of `Policies/default.yaml`.
    static let yaml = #"""
# EduVault default policy. Reports cite rules by id; the file's SHA-256 is logged whenever it is loaded.
id: eduvault-default
version: 4
rules:
  - id: K-MIN
    description: Every released cell aggregates at least this many student records.
    min_cell_size: 10
  - id: LIN-AUDIT
    description: >-
      Withhold a cell when some linear combination of it and every earlier release would determine a sum,
      difference or other weighting of fewer than k records (audited over atoms, exact arithmetic modulo a prime).
    enabled: true
  - id: COMP-SUPP
    description: >-
      Cascading complementary suppression of siblings of a withheld cell. Superseded by LIN-AUDIT, which withholds
      only the cells that would really reveal one; kept for policies that turn LIN-AUDIT off.
    enabled: false
  - id: DIFF-GUARD
    description: Refuse a cell whose record set differs from an already released cell by fewer than threshold records.
    enabled: true
    threshold: k
  - id: MODEL-DF
    description: >-
      A released model (eduvault analyze) keeps at least this many residual degrees of freedom (n − columns).
    min_df_resid: 10
  - id: MODEL-SATURATED
    description: >-
      Refuse a saturated model (as many columns as records) or one whose categorical terms make X'X singular
      (decided from the record counts of every level combination, which are public).
    enabled: true
  - id: MODEL-LEVEL-K
    description: >-
      Every level of a model's categorical terms and every group of its random effect holds at least k records.
    enabled: true
  - id: ATTR-ALLOW
    description: Attributes a query may group by.
    attributes: [school, subject, region, province, county, program, grade, term, sex, residence]
  - id: KEY-MIN
    description: Smallest accepted Paillier modulus.
    min_key_bits: 2048
  - id: RETENTION
    description: Days records are kept before they must be deleted.
    retention_days: 1825
  - id: ROLES
    description: >-
      Which role may do what. Every signed request to the service names one action; a role not listed for it is
      refused (403, logged as request.denied).
    roles:
      school: [batch.upload, receipt.read]
      vault: [batch.ingest, query.aggregate, release.publish]
      bureau: [query.request, model.request, release.read, release.decrypt, release.share]
      auditor: [log.read, log.verify, release.read, release.verify, release.share, status.read]
      custodian: [release.read, release.share]
      operator: [status.read]

"""#
}
