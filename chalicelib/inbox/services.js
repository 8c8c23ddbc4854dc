// Messaging Services (messaging/v1, served under /messaging on this host): the account's
// services with the numbers in each, and forms to create a service and add a number to one.
// Everything goes through the API itself, with the signed-in credentials. The messaging
// paths take the AccountSid and AuthToken only: signed in with an API key, the section says so.

import {BASE} from './api.js';
import {h} from './view.js';

const $ = (id) => document.getElementById(id);

function problemText(error) {
  if (error.code === 20003) {
    return 'Messaging Services take the AccountSid and AuthToken: sign in with those to see them.';
  }
  return `${error.code ? `Error ${error.code}: ` : ''}${error.message}`;
}

export class Services {
  constructor(api, announce) {
    this.api = api;
    this.announce = announce;
  }

  url(rest = '') {
    return `${BASE}/messaging/v1/Services${rest}`;
  }

  async load() {
    const problem = $('services-error');
    try {
      const page = (await this.api.get(this.url('?PageSize=50'))).data;
      const services = await Promise.all(page.services.map(async (service) => {
        const numbers = await this.api.get(this.url(`/${service.sid}/PhoneNumbers?PageSize=100`));
        return {...service, numbers: numbers.data.phone_numbers};
      }));
      const owned = await this.api.get(this.api.twilio('/IncomingPhoneNumbers.json?PageSize=100'));
      problem.textContent = '';
      this.render(services, owned.data.incoming_phone_numbers);
    } catch (error) {
      problem.textContent = problemText(error);
    }
  }

  render(services, owned) {
    $('services').replaceChildren(...services.map((service) => h('li', {'data-sid': service.sid},
      h('strong', {}, service.friendly_name), ' ', h('code', {}, service.sid),
      service.numbers.length
        ? h('ul', {'aria-label': `Numbers of ${service.friendly_name}`},
          ...service.numbers.map((n) => h('li', {}, n.phone_number)))
        : h('p', {class: 'hint'}, 'No numbers yet'),
    )));
    $('services-empty').hidden = services.length > 0;
    const pick = $('service-add-service');
    pick.replaceChildren(...services.map((s) => h('option', {value: s.sid}, s.friendly_name)));
    $('service-add-number').replaceChildren(
      ...owned.map((n) => h('option', {value: n.sid}, n.phone_number)));
    $('service-add').hidden = !(services.length && owned.length);
  }

  async create(event) {
    event.preventDefault();
    const form = event.target;
    try {
      const answer = await this.api.post(this.url(), {FriendlyName: form.FriendlyName.value.trim()});
      form.FriendlyName.value = '';
      this.announce(`Created the Messaging Service ${answer.data.friendly_name}`);
      await this.load();
    } catch (error) {
      $('services-error').textContent = problemText(error);
    }
  }

  async addNumber(event) {
    event.preventDefault();
    const form = event.target;
    try {
      const answer = await this.api.post(this.url(`/${form.service.value}/PhoneNumbers`), {
        PhoneNumberSid: form.PhoneNumberSid.value,
      });
      this.announce(`Added ${answer.data.phone_number} to the service`);
      await this.load();
    } catch (error) {
      $('services-error').textContent = problemText(error);
    }
  }
}
