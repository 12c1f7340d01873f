/**
 * A message to the owners must not repeat because a run died between sending it and recording it
 * on the incident (then SQS delivers the job again). Before a run sends a notice that an earlier run
 * may have sent, it asks the notifier whether the channel already has it (Slack with a bot token:
 * the message's metadata, read back). When the notifier cannot tell (an incoming webhook has no
 * read-back, or the read failed), the notice goes out again and says plainly that it may repeat an
 * earlier one: at least once beats silence for a containment message.
 */
import { errorMessage } from "../domain/errors.js";
import type { Incident } from "../domain/incident.js";
import type { Log } from "../logger.js";
import type { NoticeKind, NoticeOptions, NotificationReceipt, Notifier } from "../ports.js";

export interface NoticeSent {
  /** True when an earlier run had sent it: nothing was sent now. */
  earlier: boolean;
  receipt: NotificationReceipt | undefined;
  /** Sent again, marked as a possible repeat (the notifier could not tell). */
  possibleRepeat: boolean;
}

export async function sendNoticeOnce(input: {
  notifier: Notifier;
  log: Log;
  incident: Incident;
  kind: NoticeKind;
  /** Could an earlier run have sent it? False when this run recorded everything up to now itself. */
  mayHaveBeenSent: boolean;
  send: (options: NoticeOptions) => Promise<NotificationReceipt | undefined>;
}): Promise<NoticeSent> {
  const { notifier, incident, kind } = input;
  if (!input.mayHaveBeenSent) return { earlier: false, receipt: await input.send({}), possibleRepeat: false };
  if (notifier.findSent) {
    let looked: { found: NotificationReceipt | undefined } | undefined;
    try {
      looked = { found: await notifier.findSent(incident, kind) };
    } catch (error: unknown) {
      input.log.warn("cannot tell whether an earlier run sent this notice: sending it, marked", {
        kind,
        error: errorMessage(error),
      });
    }
    if (looked?.found) {
      input.log.info("notice already sent by an earlier run: not sent again", { kind });
      return { earlier: true, receipt: looked.found, possibleRepeat: false };
    }
    if (looked) return { earlier: false, receipt: await input.send({}), possibleRepeat: false };
  }
  return { earlier: false, receipt: await input.send({ possibleRepeat: true }), possibleRepeat: true };
}

/** The timeline's words for a notice that went out (or had gone out) once. */
export function noticeDetail(what: string, sent: NoticeSent): string {
  if (sent.earlier) return `${what}: already in Slack, sent by a run that stopped before recording it`;
  return sent.possibleRepeat ? `${what} (marked as a possible repeat: no read-back to check)` : what;
}
