-- The node running a job. A node that restarts after a crash hands its jobs back at once
-- instead of leaving them until their leases run out.
ALTER TABLE jobs ADD COLUMN claimed_by TEXT;
