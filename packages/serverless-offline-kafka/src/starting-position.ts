import type { Admin } from 'kafkajs';
import type { EventSourceSettings } from './settings';

/**
 * What a consumer needs to know and settle before it first joins its group, read with `admin`:
 * - whether the topic stamps records when the broker appends them (`timestampType` LOG_APPEND_TIME);
 * - where a group with no commits starts: `startingPosition` (a group with commits resumes from them).
 *   LATEST and AT_TIMESTAMP are written as the group's offsets before it first joins, so a restart
 *   before the first record resumes there too instead of skipping what arrived meanwhile.
 */
export async function prepareGroup(admin: Admin, settings: EventSourceSettings): Promise<{ logAppendTime: boolean }> {
  const config = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: 2 /* TOPIC */, name: settings.topic, configNames: ['message.timestamp.type'] }],
  });
  const type = config.resources[0]?.configEntries.find((e) => e.configName === 'message.timestamp.type');
  const logAppendTime = type?.configValue === 'LogAppendTime';
  if (settings.startingPosition === 'TRIM_HORIZON') return { logAppendTime };
  const [committed] = await admin.fetchOffsets({ groupId: settings.groupId, topics: [settings.topic] });
  if (committed && committed.partitions.some((p) => p.offset !== '-1')) return { logAppendTime };
  const offsets =
    settings.startingPosition === 'LATEST'
      ? (await admin.fetchTopicOffsets(settings.topic)).map((p) => ({ partition: p.partition, offset: p.high }))
      : await admin.fetchTopicOffsetsByTimestamp(settings.topic, settings.startingPositionTimestamp! * 1000);
  await admin.setOffsets({ groupId: settings.groupId, topic: settings.topic, partitions: offsets });
  return { logAppendTime };
}
