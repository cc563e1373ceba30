import { Webhook } from 'standardwebhooks';

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com) with the reference library:
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under the whsec_ secret.
 * The timestamp is the attempt's, so every retry is signed afresh with the same webhook-id.
 */
export class WebhookSigner {
  private readonly webhook: Webhook;

  constructor(secret: string) {
    this.webhook = new Webhook(secret);
  }

  headers(messageId: string, at: Date, body: string): Record<string, string> {
    return {
      'content-type': 'application/json',
      'webhook-id': messageId,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': this.webhook.sign(messageId, at, body),
    };
  }
}
