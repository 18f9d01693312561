// The page's words: English by default, Korean when the browser (or ?lang=ko) asks for it; and
// Hangul text marked lang="ko".

const KO = {
  'Characters': '캐릭터', 'Chats': '대화', 'New chat': '새 대화', 'Import card': '카드 가져오기',
  'Memory': '기억', 'API key': 'API 키', 'Key': '키', 'Save': '저장', 'Cancel': '취소',
  'Forget key': '키 지우기', 'Close': '닫기', 'Send': '보내기', 'Stop': '멈추기',
  'Edit': '고치기', 'Delete': '지우기', 'Regenerate': '다시 쓰기', 'Forget': '잊기',
  'Add': '추가', 'Add a memory': '기억 추가', 'Text': '내용', 'Kind': '종류', 'Label': '이름표',
  'note': '메모', 'fact': '사실', 'Memories': '저장된 기억', 'What they know about you': '나에 대한 정보',
  'Pick a character': '캐릭터를 고르세요', 'Your message': '메시지', 'You': '나',
  'Dismiss': '닫기', 'incomplete': '미완성', 'greeting': '첫인사', 'Nothing yet.': '아직 없어요.',
  'No chats yet: send a message to start one.': '아직 대화가 없어요. 메시지를 보내면 시작돼요.',
  'Write a message (Enter sends, Shift+Enter for a new line)': '메시지를 쓰세요 (Enter 보내기, Shift+Enter 줄바꿈)',
  'Drop a character card to import it': '카드 파일을 놓으면 가져와요',
  'No characters yet: import a card (drop a .png, .json or .charx file here).':
    '캐릭터가 없어요. 카드(.png, .json, .charx)를 끌어다 놓으세요.',
  'Imported': '가져왔어요:', 'Stopped.': '멈췄어요.', 'Delete this message?': '이 메시지를 지울까요?',
  'The reply ended before it was complete.': '답이 끝나기 전에 끊겼어요.',
  'This server needs an API key.': '이 서버는 API 키가 필요해요.',
  'Characters and chats': '캐릭터와 대화', 'Chat': '대화', 'Imported lorebook': '로어북을 가져왔어요:',
  'Writing and revising…': '쓰고 다듬는 중…',
};
export const LANG = (new URLSearchParams(location.search).get('lang') || navigator.language || 'en')
  .toLowerCase().startsWith('ko') ? 'ko' : 'en';
export const t = (text) => (LANG === 'ko' && KO[text]) || text;

export function translatePage() {
  document.documentElement.lang = LANG;
  for (const el of document.querySelectorAll('[data-t]')) el.textContent = t(el.textContent.trim());
  for (const el of document.querySelectorAll('[placeholder]')) el.placeholder = t(el.placeholder);
  for (const el of document.querySelectorAll('[aria-label]')) {
    el.setAttribute('aria-label', t(el.getAttribute('aria-label')));
  }
}

// Hangul in a text: mark it lang="ko" so line breaking and fonts suit it.
const HANGUL = /[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]/;
export function setLangOf(el, text) {
  if (HANGUL.test(text)) el.lang = 'ko';
  else el.removeAttribute('lang');
}
