-- Up Migration
-- Why: replicas of one control plane share one identity and one CA.
-- `control_plane.id` marks everything this control plane creates (Kubernetes
-- labels, local instance files), so two control planes sharing a cluster or a
-- machine never touch each other's objects. The CA signs every instance's
-- server certificate; its private key is sealed like the instance passwords
-- (TOYGRES_SECRET_KEY), never stored in plain text. Single rows, created by
-- whichever replica boots first (INSERT ... ON CONFLICT DO NOTHING).
CREATE TABLE toygres.control_plane (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE toygres.certificate_authority (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  certificate_pem text NOT NULL,
  private_key_ciphertext text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
