/**
 * One CloudTrail event, normalised from any of the shapes a responder meets: LookupEvents output
 * (`Events[].CloudTrailEvent` is a JSON string), CloudTrail log files (`{"Records": [...]}`) and the
 * snapshot's evidence (JSON lines). facts.md (AWS: CloudTrail) lists the fields that matter.
 */
export interface TrailIdentity {
  type?: string;
  arn?: string;
  accountId?: string;
  userName?: string;
  principalId?: string;
  accessKeyId?: string;
  /** For temporary credentials: who issued them (the role or user) and when. */
  sessionIssuer?: { type?: string; arn?: string; userName?: string };
  sessionCreationDate?: string;
  /** Set when an AWS service made the call on the principal's behalf (e.g. "cloudformation.amazonaws.com"). */
  invokedBy?: string;
}

export interface TrailEvent {
  eventId: string;
  /** ISO 8601. */
  eventTime: string;
  eventName: string;
  /** e.g. "iam.amazonaws.com". */
  eventSource: string;
  awsRegion: string;
  sourceIPAddress?: string;
  userAgent?: string;
  errorCode?: string;
  errorMessage?: string;
  readOnly?: boolean;
  recipientAccountId?: string;
  userIdentity: TrailIdentity;
  requestParameters?: Record<string, unknown> | null;
  responseElements?: Record<string, unknown> | null;
  resources?: Array<{ ARN?: string; accountId?: string; type?: string }>;
  /** Set when the call came through a VPC endpoint: `sourceIPAddress` is then a private address. */
  vpcEndpointId?: string;
}
