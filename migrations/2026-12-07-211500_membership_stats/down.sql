DROP VIEW membership_stats;
