// Command lines a local user could craft against the cmdline patterns in force: each pattern
// with the text that keeps a regular-expression engine busiest on it (a unit repeated to the
// length wanted), and an ordinary command line it would see on a real host. Shared by the
// hardening tests and `npm run bench`.

export interface CraftedCase {
  /** A cmdline pattern as an operator would write it. */
  pattern: string;
  /** Repeated, the text that costs the pattern most: it keeps many partial matches alive. */
  unit: string;
  /** A command line of a real host that the pattern is about. */
  ordinary: string;
}

export const CRAFTED_CASES: readonly CraftedCase[] = [
  { pattern: 'python .*app\\.py', unit: 'python ', ordinary: 'python /srv/web/app.py --port 8001' },
  { pattern: '\\s*#\\s*$', unit: ' ', ordinary: 'sh -c run-parts /etc/cron.hourly #' },
  { pattern: '^(\\w+\\s?)*$', unit: 'aaaa ', ordinary: 'rsync a b' },
  { pattern: '(a|a)*b', unit: 'a', ordinary: 'tar -C /srv -czf backup.tgz data' },
  { pattern: 'gunicorn.*--workers\\s+\\d+.*wsgi', unit: 'gunicorn --workers 3 ', ordinary: '/srv/venv/bin/gunicorn --workers 4 --bind 127.0.0.1:8000 app.wsgi' },
  { pattern: '(nginx|apache2|httpd|php-fpm|gunicorn|uwsgi|puma|unicorn).*(master|worker).*conf', unit: 'nginx worker ', ordinary: 'nginx: master process /usr/sbin/nginx -c /etc/nginx/nginx.conf' },
  { pattern: '^/usr/bin/python3? .*manage\\.py (runserver|celery)', unit: '/usr/bin/python3 ', ordinary: '/usr/bin/python3 /srv/site/manage.py celery worker' },
  { pattern: 'java .*-Xmx\\d+[mg] .*\\.jar', unit: 'java -Xmx1g ', ordinary: '/usr/bin/java -Xms512m -Xmx2g -jar /opt/app/app.jar' },
  { pattern: 'celery.*worker.*-Q\\s*(high|low)', unit: 'celery worker -Q ', ordinary: '/srv/venv/bin/celery -A proj worker -Q high -c 4' },
  { pattern: '\\bsidekiq\\b.*\\[0 of \\d+ busy\\]', unit: 'sidekiq [0 of 1 busy ', ordinary: 'sidekiq 7.2.1 app [0 of 10 busy]' },
];

/** `unit` repeated to exactly `length` characters. */
export function repeatTo(unit: string, length: number): string {
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
}
